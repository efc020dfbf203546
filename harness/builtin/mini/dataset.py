"""Assemble SALMU-mini and write it in the on-disk layout of the SALMUBench hub repositories.

``write_mini_dataset`` writes four folders under ``root``:

``dataset/``
    the evaluation repository (like ``cvc-mmu/salmubench-512-redistributed``):
    ``data/{forget,holdout_association,holdout_identity,retain_synth}-00000-of-00001.parquet``
    with columns ``image`` (HF ``Image``, PNG bytes embedded), ``text``, ``identity_id``
    (string or null) and ``file_name``; ``identities_metadata.json``,
    ``sensitive_set_captions_metadata.json``, ``sensitive_set_generic_captions.json``,
    ``fragile_set_ids.json``, ``fragile_set_all_similarities.json`` and a ``README.md`` card.
``training/``
    the training repository (like ``cvc-mmu/salmu-512-redistributed``):
    ``data/sensitive-00000-of-00001.parquet`` (forget + holdout_association +
    holdout_identity rows) and ``data/retain_synth-00000-of-00001.parquet`` (the same rows as
    the evaluation one).
``pretraining/``
    ``data/train-00000-of-00001.parquet``: generic scene pairs (the DataComp stand-in).
``genknow/``
    ``data/test-00000-of-00001.parquet`` (``image``, ``label`` as a ``ClassLabel`` over
    ``harness.builtin.mini.scenes.CLASSNAMES``) and ``zero_shot.json`` (classnames and
    prompt templates): the ImageNet zero-shot stand-in. Since generator version 7 the
    default scale draws 250 scenes per class (12,000, a quarter of ImageNet val's 50,000), so
    that GenKnow resolves the paper's one-point rule: on 960 images the paired 95% interval
    of two models' GenKnow difference was about +-2.5 points, on 12,000 it is under one.

Personas are split in three groups (``field_plan``). Each (persona, field, k) row has its own
image, its own template (cycling through the four, offset per persona) and a file name
``{identity_id}_{index:03d}_ar-{ar:.2f}.png`` whose index is unique per persona (a seeded
permutation over the persona's sensitive and retain_joint images). ``retain_synth`` holds the
``retain_joint`` rows (new images of the forget personas, trait captions, identity id set) and
the ``retain_disjoint`` rows (null identity id, ``synth_{n:06d}_ar-{ar:.2f}.png``): scenes and,
since generator version 5, ``retain_portrait_rows`` portraits of named passers-by
(``passers_by`` says why they are there).

**Fragile set.** ``fragile_rows`` of the retain_disjoint scenes are drawn with a small face
glyph beside the object, in the skin, hair and eye colours of a randomly chosen forget persona
(caption suffix "next to a small face"): scenes that look a little like the forgotten
identities. ``fragile_set_all_similarities.json`` is a synthetic stand-in for the real file's
similarity scores: a glyph scene scores ``0.55 + 0.45 u``, any other scene ``0.45 u``, with
``u`` uniform in [0, 1) from a dedicated seeded generator (6 decimals). The fragile ids are
therefore exactly the ``fragile_rows`` top-scoring rows.

Everything is a pure function of ``(scale, seed)``: one ``numpy.random.SeedSequence(seed)``
spawns a generator per purpose, rows are sorted by ``file_name``, PNGs are written with fixed
options, JSON with sorted keys, and no timestamp is written anywhere, so two calls produce
byte-identical files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from harness.builtin.mini.field_plan import field_plan
from harness.builtin.mini.files import (
    Row,
    card,
    png_bytes,
    shard_name,
    statistics,
    write_genknow,
    write_json,
    write_rows,
    write_text,
)
from harness.builtin.mini.passers_by import passers_by
from harness.builtin.mini.personas import (
    DATA_FIELDS,
    make_personas,
    metadata_record,
    sensitive_caption,
)
from harness.builtin.mini.portraits import draw_portrait, trait_caption
from harness.builtin.mini.scales import SCALES, MiniScale
from harness.builtin.mini.scenes import (
    CLASSNAMES,
    COLOURS,
    SHAPES,
    ZERO_SHOT_TEMPLATES,
    draw_scene,
    draw_scene_with_layout,
    scene_caption,
)
from harness.builtin.mini.web_noise import WEB_NOISE_FRACTION, decoy_count, web_noise

__all__ = [
    "EVALUATION_SPLITS",
    "GENERATOR_VERSION",
    "SCALES",
    "MiniScale",
    "shard_name",
    "write_mini_dataset",
]

GENERATOR_VERSION = "7"
EVALUATION_SPLITS: tuple[str, ...] = (
    "forget",
    "holdout_association",
    "holdout_identity",
    "retain_synth",
)
_PROGRESS_EVERY = 1000

ProgressCallback = Callable[[str, int], None]


def _persona_file_name(identity_id: str, index: int, ratio: float) -> str:
    return f"{identity_id}_{index:03d}_ar-{ratio:.2f}.png"


class _Progress:
    """Calls the optional callback every ``_PROGRESS_EVERY`` items and at each stage's end."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.last: tuple[str, int] | None = None

    def _report(self, stage: str, done: int) -> None:
        if self.callback is not None and self.last != (stage, done):
            self.last = (stage, done)
            self.callback(stage, done)

    def tick(self, stage: str, done: int) -> None:
        if done and done % _PROGRESS_EVERY == 0:
            self._report(stage, done)

    def end(self, stage: str, done: int) -> None:
        self._report(stage, done)


def write_mini_dataset(
    root: Path,
    scale: MiniScale,
    seed: int,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Write SALMU-mini for ``(scale, seed)`` under ``root``; return its statistics.

    The statistics (also written to ``root/mini_stats.json``) hold, per split, its ``rows``
    and distinct ``identities`` (forget, forget_identity, forget_association,
    holdout_association, holdout_identity, retain_synth, retain_joint, retain_disjoint,
    fragile_set, pretraining, genknow), the forget rows per data_field, the generator version,
    the seed, the scale name and the scale's sizes. ``progress(stage, n_done)`` is called now
    and then if given. Existing files at the written paths are overwritten.
    """
    import datasets

    root = Path(root)
    tracker = _Progress(progress)
    # a tenth child for the passers-by keeps the other nine streams as generator version 4 drew
    seqs = np.random.SeedSequence(seed).spawn(10)
    persona_seq, plan_seq, sens_seq, generic_seq, joint_seq = seqs[:5]
    disjoint_seq, score_seq, pretrain_seq, genknow_seq, passerby_seq = seqs[5:]
    size = scale.longest_side

    everyone = make_personas(
        scale.personas + decoy_count(scale), int(persona_seq.generate_state(1)[0])
    )
    personas, decoys = everyone[: scale.personas], everyone[scale.personas :]
    forget_personas = personas[: scale.forget_personas]
    tracker.end("personas", len(personas))

    plan_rng = np.random.default_rng(plan_seq)
    plan = field_plan(scale, personas, plan_rng)
    joint_owner = [
        forget_personas[n % len(forget_personas)] for n in range(scale.retain_joint_rows)
    ]
    joint_counts: dict[str, int] = {}
    for persona in joint_owner:
        joint_counts[persona.identity_id] = joint_counts.get(persona.identity_id, 0) + 1
    sensitive_per_persona = len(DATA_FIELDS) * scale.rows_per_attribute
    image_indices: dict[str, list[int]] = {}
    for persona in personas:
        total = sensitive_per_persona + joint_counts.get(persona.identity_id, 0)
        image_indices[persona.identity_id] = plan_rng.permutation(total).tolist()

    # sensitive rows: forget, holdout_association, holdout_identity
    sens_rng = np.random.default_rng(sens_seq)
    generic_rng = np.random.default_rng(generic_seq)
    splits: dict[str, list[Row]] = {name: [] for name in EVALUATION_SPLITS}
    captions_metadata: dict[str, dict[str, str]] = {}
    generic_captions: dict[str, str] = {}
    done = 0
    for ordinal, persona in enumerate(personas):
        forget_fields, _, holdout_split = plan[persona.identity_id]
        indices = image_indices[persona.identity_id]
        slot = 0
        for field in DATA_FIELDS:
            split = "forget" if field in forget_fields else holdout_split
            for k in range(scale.rows_per_attribute):
                image, ratio = draw_portrait(persona.traits, sens_rng, size)
                file_name = _persona_file_name(persona.identity_id, indices[slot], ratio)
                slot += 1
                caption = sensitive_caption(persona, field, k + ordinal)
                splits[split].append(Row(png_bytes(image), caption, persona.identity_id, file_name))
                captions_metadata[file_name] = {"caption": caption, "data_field": field}
                generic_captions[file_name] = trait_caption(persona.traits, generic_rng)
                done += 1
                tracker.tick("sensitive", done)
    tracker.end("sensitive", done)

    # retain_joint: new images of forget personas with trait captions
    joint_rng = np.random.default_rng(joint_seq)
    next_slot = {p.identity_id: sensitive_per_persona for p in forget_personas}
    joint_rows: list[Row] = []
    for n, persona in enumerate(joint_owner, start=1):
        image, ratio = draw_portrait(persona.traits, joint_rng, size)
        index = image_indices[persona.identity_id][next_slot[persona.identity_id]]
        next_slot[persona.identity_id] += 1
        file_name = _persona_file_name(persona.identity_id, index, ratio)
        caption = trait_caption(persona.traits, joint_rng)
        joint_rows.append(Row(png_bytes(image), caption, persona.identity_id, file_name))
        tracker.tick("retain_joint", n)
    tracker.end("retain_joint", len(joint_rows))

    # retain_disjoint: portraits of passers-by, and scenes, some with a face glyph (fragile)
    disjoint_rng = np.random.default_rng(disjoint_seq)
    score_rng = np.random.default_rng(score_seq)
    passerby_rng = np.random.default_rng(passerby_seq)
    portrait_positions = set(
        passerby_rng.choice(
            scale.retain_disjoint_rows, size=scale.retain_portrait_rows, replace=False
        ).tolist()
    )
    scene_positions = np.array(
        [n for n in range(scale.retain_disjoint_rows) if n not in portrait_positions]
    )
    fragile_positions = set(
        disjoint_rng.choice(scene_positions, size=scale.fragile_rows, replace=False).tolist()
    )
    people = passers_by(personas, scale.retain_portrait_rows, passerby_rng, size)
    disjoint_rows: list[Row] = []
    similarities: dict[str, float] = {}
    fragile_ids: list[str] = []
    for n in range(scale.retain_disjoint_rows):
        if n in portrait_positions:
            image, ratio, caption = next(people)
            file_name = f"synth_{n:06d}_ar-{ratio:.2f}.png"
            disjoint_rows.append(Row(png_bytes(image), caption, None, file_name))
            similarities[file_name] = round(0.45 * float(score_rng.random()), 6)
            tracker.tick("retain_disjoint", n + 1)
            continue
        colour = COLOURS[int(disjoint_rng.integers(len(COLOURS)))]
        shape = SHAPES[int(disjoint_rng.integers(len(SHAPES)))]
        fragile = n in fragile_positions
        face = None
        if fragile:
            face = forget_personas[int(disjoint_rng.integers(len(forget_personas)))].traits
        image, ratio, layout = draw_scene_with_layout(colour, shape, disjoint_rng, size, face)
        caption = scene_caption(colour, shape, disjoint_rng, with_face=fragile, layout=layout)
        file_name = f"synth_{n:06d}_ar-{ratio:.2f}.png"
        disjoint_rows.append(Row(png_bytes(image), caption, None, file_name))
        u = float(score_rng.random())
        similarities[file_name] = round(0.55 + 0.45 * u if fragile else 0.45 * u, 6)
        if fragile:
            fragile_ids.append(file_name)
        tracker.tick("retain_disjoint", n + 1)
    tracker.end("retain_disjoint", len(disjoint_rows))
    splits["retain_synth"] = joint_rows + disjoint_rows

    # pretraining: balanced generic scenes
    pretrain_rng = np.random.default_rng(pretrain_seq)
    pretrain_rows: list[Row] = []
    for n in range(scale.pretraining_rows):
        label = n % len(CLASSNAMES)
        colour, shape = COLOURS[label // len(SHAPES)], SHAPES[label % len(SHAPES)]
        image, ratio = draw_scene(colour, shape, pretrain_rng, size)
        caption = scene_caption(colour, shape, pretrain_rng)
        if pretrain_rng.random() < WEB_NOISE_FRACTION:
            caption += web_noise(decoys[int(pretrain_rng.integers(len(decoys)))], pretrain_rng)
        pretrain_rows.append(
            Row(png_bytes(image), caption, None, f"pretrain_{n:06d}_ar-{ratio:.2f}.png")
        )
        tracker.tick("pretraining", n + 1)
    tracker.end("pretraining", len(pretrain_rows))

    # genknow: fresh scenes per class
    genknow_rng = np.random.default_rng(genknow_seq)
    genknow_images: list[tuple[bytes, str]] = []
    genknow_labels: list[int] = []
    for label in range(len(CLASSNAMES)):
        colour, shape = COLOURS[label // len(SHAPES)], SHAPES[label % len(SHAPES)]
        for _ in range(scale.genknow_per_class):
            image, ratio = draw_scene(colour, shape, genknow_rng, size)
            name = f"genknow_{len(genknow_images):06d}_ar-{ratio:.2f}.png"
            genknow_images.append((png_bytes(image), name))
            genknow_labels.append(label)
    tracker.end("genknow", len(genknow_images))

    # writing
    bars_were_enabled = not datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        dataset_dir = root / "dataset"
        for split in EVALUATION_SPLITS:
            write_rows(dataset_dir / "data" / shard_name(split), splits[split])
        training_dir = root / "training"
        sensitive_rows = (
            splits["forget"] + splits["holdout_association"] + splits["holdout_identity"]
        )
        write_rows(training_dir / "data" / shard_name("sensitive"), sensitive_rows)
        write_rows(training_dir / "data" / shard_name("retain_synth"), splits["retain_synth"])
        write_rows(root / "pretraining" / "data" / shard_name("train"), pretrain_rows)
        write_genknow(
            root / "genknow" / "data" / shard_name("test"), genknow_images, genknow_labels
        )
    finally:
        if bars_were_enabled:
            datasets.enable_progress_bars()
    tracker.end("parquet", len(EVALUATION_SPLITS) + 4)

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
    write_text(
        dataset_dir / "README.md",
        card(
            "SALMU-mini evaluation dataset",
            EVALUATION_SPLITS,
            "The evaluation splits and metadata files of SALMU-mini, laid out like "
            "`cvc-mmu/salmubench-512-redistributed`.",
            scale,
            seed,
            GENERATOR_VERSION,
        ),
    )
    write_text(
        training_dir / "README.md",
        card(
            "SALMU-mini training dataset",
            ("sensitive", "retain_synth"),
            "The training splits of SALMU-mini, laid out like `cvc-mmu/salmu-512-redistributed`.",
            scale,
            seed,
            GENERATOR_VERSION,
        ),
    )
    write_text(
        root / "pretraining" / "README.md",
        card(
            "SALMU-mini pretraining pairs",
            ("train",),
            "Generic coloured-shape image-caption pairs (the DataComp stand-in).",
            scale,
            seed,
            GENERATOR_VERSION,
        ),
    )
    write_text(
        root / "genknow" / "README.md",
        card(
            "SALMU-mini GenKnow test set",
            ("test",),
            "Zero-shot classification set over 48 colour-shape classes (the ImageNet stand-in);"
            " class names and prompt templates are in `zero_shot.json`.",
            scale,
            seed,
            GENERATOR_VERSION,
        ),
    )

    stats = statistics(
        GENERATOR_VERSION,
        scale,
        seed,
        splits,
        joint_rows,
        disjoint_rows,
        fragile_ids,
        pretrain_rows,
        genknow_labels,
        captions_metadata,
    )
    write_json(root / "mini_stats.json", stats)
    tracker.end("done", 1)
    return stats
