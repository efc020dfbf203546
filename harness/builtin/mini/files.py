"""Writing SALMU-mini's files in the hub layout: parquet shards with embedded PNGs, JSON
metadata, dataset cards and the statistics file, all byte-identical for the same input."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from harness.builtin.mini.personas import DATA_FIELDS
from harness.builtin.mini.scales import MiniScale
from harness.builtin.mini.scenes import CLASSNAMES

#: the evaluation repository's stored splits
EVALUATION_SPLITS: tuple[str, ...] = (
    "forget",
    "holdout_association",
    "holdout_identity",
    "retain_synth",
)


@dataclass(frozen=True)
class Row:
    """One row of a split: the PNG bytes, caption, identity (or None) and file name."""

    png: bytes
    text: str
    identity_id: str | None
    file_name: str


def shard_name(split: str) -> str:
    """The single-shard parquet file name of ``split`` (``{split}-00000-of-00001.parquet``)."""
    return f"{split}-00000-of-00001.parquet"


def png_bytes(image: Image.Image) -> bytes:
    """The PNG bytes of an image (fixed options: the same image, the same bytes)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text with Unix newlines, folders created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def write_json(path: Path, obj: Any) -> None:
    """Write JSON with sorted keys and a final newline."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=True) + "\n")


def write_rows(path: Path, rows: Iterable[Row]) -> None:
    """One split as a parquet shard, rows sorted by file name, PNGs embedded."""
    import datasets

    ordered = sorted(rows, key=lambda row: row.file_name)
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "text": datasets.Value("string"),
            "identity_id": datasets.Value("string"),
            "file_name": datasets.Value("string"),
        }
    )
    table = datasets.Dataset.from_dict(
        {
            "image": [{"bytes": row.png, "path": row.file_name} for row in ordered],
            "text": [row.text for row in ordered],
            "identity_id": [row.identity_id for row in ordered],
            "file_name": [row.file_name for row in ordered],
        },
        features=features,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(str(path))


def write_genknow(path: Path, images: list[tuple[bytes, str]], labels: list[int]) -> None:
    """The zero-shot set as a parquet shard with a ClassLabel over the classnames."""
    import datasets

    features = datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=CLASSNAMES)}
    )
    table = datasets.Dataset.from_dict(
        {"image": [{"bytes": png, "path": name} for png, name in images], "label": labels},
        features=features,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(str(path))


def card(
    title: str,
    splits: Iterable[str],
    body: str,
    scale: MiniScale,
    seed: int,
    generator_version: str,
) -> str:
    """The README.md dataset card of one repository folder."""
    lines = ["---", f"pretty_name: {title}", "configs:", "- config_name: default", "  data_files:"]
    for split in splits:
        lines += [f"  - split: {split}", f"    path: data/{split}-*"]
    lines += [
        "---",
        "",
        f"# {title}",
        "",
        body,
        "",
        "SALMU-mini is a generated, CPU-sized miniature of SALMUBench (Selvas-Sala, Kang, Gomez,",
        "CVPR 2026). Every persona, portrait, personal value and scene in it is synthetic: the",
        "names and data come from Faker, the images are drawn procedurally. It is not the",
        "benchmark's data and its numbers are not comparable with the benchmark's.",
        "",
        f"- generator: harness.builtin.mini, version {generator_version}",
        f"- seed: {seed}",
        f"- scale: {scale.name}",
        "",
    ]
    return "\n".join(lines)


def split_stats(rows: list[Row]) -> dict[str, int]:
    """Rows and distinct identities of a split."""
    identities = {row.identity_id for row in rows if row.identity_id is not None}
    return {"rows": len(rows), "identities": len(identities)}


def statistics(
    generator_version: str,
    scale: MiniScale,
    seed: int,
    splits: dict[str, list[Row]],
    joint_rows: list[Row],
    disjoint_rows: list[Row],
    fragile_ids: list[str],
    pretrain_rows: list[Row],
    genknow_labels: list[int],
    captions_metadata: dict[str, dict[str, str]],
) -> dict[str, Any]:
    holdout_association_ids = {row.identity_id for row in splits["holdout_association"]}
    forget = splits["forget"]
    forget_identity = [row for row in forget if row.identity_id not in holdout_association_ids]
    forget_association = [row for row in forget if row.identity_id in holdout_association_ids]
    fragile = set(fragile_ids)
    per_split = {
        "forget": split_stats(forget),
        "forget_identity": split_stats(forget_identity),
        "forget_association": split_stats(forget_association),
        "holdout_association": split_stats(splits["holdout_association"]),
        "holdout_identity": split_stats(splits["holdout_identity"]),
        "retain_synth": split_stats(splits["retain_synth"]),
        "retain_joint": split_stats(joint_rows),
        "retain_disjoint": split_stats(disjoint_rows),
        "fragile_set": split_stats([row for row in disjoint_rows if row.file_name in fragile]),
        "pretraining": split_stats(pretrain_rows),
        "genknow": {"rows": len(genknow_labels), "identities": 0},
    }
    field_rows = {field: 0 for field in DATA_FIELDS}
    for row in forget:
        field_rows[captions_metadata[row.file_name]["data_field"]] += 1
    return {
        "generator_version": generator_version,
        "seed": seed,
        "scale": scale.name,
        "scale_sizes": asdict(scale),
        "splits": per_split,
        "forget_rows_per_data_field": field_rows,
        "genknow_classes": len(CLASSNAMES),
    }
