"""Writing a SALMU-mini build's four hub-layout folders: parquet shards, metadata files, cards.

``dataset/`` and ``training/`` as the two SALMUBench hub repositories lay them out,
``pretraining/`` (the DataComp stand-in) and ``genknow/`` (the ImageNet stand-in).
"""

from __future__ import annotations

from pathlib import Path

from harness.builtin.mini.files import (
    EVALUATION_SPLITS,
    Row,
    card,
    shard_name,
    write_genknow,
    write_json,
    write_rows,
    write_text,
)
from harness.builtin.mini.personas import Persona, metadata_record
from harness.builtin.mini.scales import MiniScale
from harness.builtin.mini.scenes import CLASSNAMES, ZERO_SHOT_TEMPLATES


def write_parquet(
    root: Path,
    splits: dict[str, list[Row]],
    pretrain_rows: list[Row],
    genknow_images: list[tuple[bytes, str]],
    genknow_labels: list[int],
) -> None:
    """The four folders' parquet shards (the datasets library's own bars off meanwhile)."""
    import datasets

    bars_were_enabled = not datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        for split in EVALUATION_SPLITS:
            write_rows(root / "dataset" / "data" / shard_name(split), splits[split])
        sensitive = splits["forget"] + splits["holdout_association"] + splits["holdout_identity"]
        write_rows(root / "training" / "data" / shard_name("sensitive"), sensitive)
        write_rows(root / "training" / "data" / shard_name("retain_synth"), splits["retain_synth"])
        write_rows(root / "pretraining" / "data" / shard_name("train"), pretrain_rows)
        write_genknow(
            root / "genknow" / "data" / shard_name("test"), genknow_images, genknow_labels
        )
    finally:
        if bars_were_enabled:
            datasets.enable_progress_bars()


def write_metadata(
    root: Path,
    personas: list[Persona],
    captions_metadata: dict[str, dict[str, str]],
    generic_captions: dict[str, str],
    fragile_ids: list[str],
    similarities: dict[str, float],
) -> None:
    """The evaluation repository's metadata files, and the zero-shot set's class names."""
    dataset_dir = root / "dataset"
    write_json(
        dataset_dir / "identities_metadata.json",
        {persona.identity_id: metadata_record(persona) for persona in personas},
    )
    write_json(dataset_dir / "sensitive_set_captions_metadata.json", captions_metadata)
    write_json(dataset_dir / "sensitive_set_generic_captions.json", generic_captions)
    write_json(dataset_dir / "fragile_set_ids.json", sorted(fragile_ids))
    write_json(dataset_dir / "fragile_set_all_similarities.json", similarities)
    write_json(
        root / "genknow" / "zero_shot.json",
        {"classnames": list(CLASSNAMES), "templates": list(ZERO_SHOT_TEMPLATES)},
    )


#: folder -> (card title, its splits, what it holds)
CARDS = {
    "dataset": (
        "SALMU-mini evaluation dataset",
        EVALUATION_SPLITS,
        "The evaluation splits and metadata files of SALMU-mini, laid out like "
        "`cvc-mmu/salmubench-512-redistributed`.",
    ),
    "training": (
        "SALMU-mini training dataset",
        ("sensitive", "retain_synth"),
        "The training splits of SALMU-mini, laid out like `cvc-mmu/salmu-512-redistributed`.",
    ),
    "pretraining": (
        "SALMU-mini pretraining pairs",
        ("train",),
        "Generic coloured-shape image-caption pairs (the DataComp stand-in).",
    ),
    "genknow": (
        "SALMU-mini GenKnow test set",
        ("test",),
        "Zero-shot classification set over 48 colour-shape classes (the ImageNet stand-in);"
        " class names and prompt templates are in `zero_shot.json`.",
    ),
}


def write_cards(root: Path, scale: MiniScale, seed: int, version: str) -> None:
    """A dataset card per folder."""
    for folder, (title, splits, summary) in CARDS.items():
        write_text(
            root / folder / "README.md",
            card(title, splits, summary, scale, seed, version),
        )
