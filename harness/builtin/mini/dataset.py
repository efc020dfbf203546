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
    prompt templates): the ImageNet zero-shot stand-in. The default scale draws 250 scenes per
    class (12,000, a quarter of ImageNet val's 50,000): enough for the paired 95% interval of
    two models' GenKnow difference to stay under the paper's one-point rule.

Personas are split in three groups (``field_plan``). Each (persona, field, k) row has its own
image, its own template (cycling through the four, offset per persona) and a file name
``{identity_id}_{index:03d}_ar-{ar:.2f}.png`` whose index is unique per persona (a seeded
permutation over the persona's sensitive and retain_joint images). ``retain_synth`` holds the
``retain_joint`` rows (new images of the forget personas, trait captions, identity id set) and
the ``retain_disjoint`` rows (null identity id, ``synth_{n:06d}_ar-{ar:.2f}.png``): scenes and
``retain_portrait_rows`` portraits of named passers-by
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.random import SeedSequence

from harness.builtin.mini.field_plan import field_plan
from harness.builtin.mini.files import (
    EVALUATION_SPLITS,
    Row,
    png_bytes,
    shard_name,
    statistics,
    write_json,
)
from harness.builtin.mini.hub_folders import write_cards, write_metadata, write_parquet
from harness.builtin.mini.passers_by import passers_by
from harness.builtin.mini.personas import (
    DATA_FIELDS,
    Persona,
    make_personas,
    sensitive_caption,
)
from harness.builtin.mini.portraits import draw_portrait, trait_caption
from harness.builtin.mini.scales import SCALES, MiniScale
from harness.builtin.mini.scenes import (
    CLASSNAMES,
    COLOURS,
    SHAPES,
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


@dataclass
class _Cast:
    """Who is in the dataset and which image index each of their rows gets."""

    personas: list[Persona]
    decoys: list[Persona]
    forget_personas: list[Persona]
    plan: dict[str, Any]
    joint_owner: list[Persona]
    image_indices: dict[str, list[int]]
    sensitive_per_persona: int


@dataclass
class _Sensitive:
    """forget, holdout_association and holdout_identity rows, and their caption metadata."""

    splits: dict[str, list[Row]]
    captions_metadata: dict[str, dict[str, str]]
    generic_captions: dict[str, str]


@dataclass
class _Disjoint:
    """retain_disjoint rows, their synthetic similarity scores and the fragile ids."""

    rows: list[Row]
    similarities: dict[str, float]
    fragile_ids: list[str]


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
    root = Path(root)
    tracker = _Progress(progress)
    # one stream per purpose, in a fixed order (a new purpose is appended: the others keep theirs)
    seqs = np.random.SeedSequence(seed).spawn(10)
    persona_seq, plan_seq, sens_seq, generic_seq, joint_seq = seqs[:5]
    disjoint_seq, score_seq, pretrain_seq, genknow_seq, passerby_seq = seqs[5:]
    cast = _cast(scale, persona_seq, plan_seq, tracker)
    sensitive = _sensitive_rows(scale, cast, sens_seq, generic_seq, tracker)
    joint_rows = _retain_joint_rows(scale, cast, joint_seq, tracker)
    disjoint = _retain_disjoint_rows(scale, cast, disjoint_seq, score_seq, passerby_seq, tracker)
    splits = {**sensitive.splits, "retain_synth": joint_rows + disjoint.rows}
    pretrain_rows = _pretraining_rows(scale, cast.decoys, pretrain_seq, tracker)
    genknow_images, genknow_labels = _genknow_set(scale, genknow_seq, tracker)
    write_parquet(root, splits, pretrain_rows, genknow_images, genknow_labels)
    tracker.end("parquet", len(EVALUATION_SPLITS) + 4)
    write_metadata(
        root,
        cast.personas,
        sensitive.captions_metadata,
        sensitive.generic_captions,
        disjoint.fragile_ids,
        disjoint.similarities,
    )
    write_cards(root, scale, seed, GENERATOR_VERSION)
    stats = statistics(
        GENERATOR_VERSION,
        scale,
        seed,
        splits,
        joint_rows,
        disjoint.rows,
        disjoint.fragile_ids,
        pretrain_rows,
        genknow_labels,
        sensitive.captions_metadata,
    )
    write_json(root / "mini_stats.json", stats)
    tracker.end("done", 1)
    return stats


def _cast(
    scale: MiniScale, persona_seq: SeedSequence, plan_seq: SeedSequence, tracker: _Progress
) -> _Cast:
    """The personas (and web-noise decoys), their split plan and their rows' image indices."""
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
    return _Cast(
        personas, decoys, forget_personas, plan, joint_owner, image_indices, sensitive_per_persona
    )


def _sensitive_rows(
    scale: MiniScale,
    cast: _Cast,
    sens_seq: SeedSequence,
    generic_seq: SeedSequence,
    tracker: _Progress,
) -> _Sensitive:
    """One row per (persona, field, k): forget, holdout_association or holdout_identity."""
    sens_rng = np.random.default_rng(sens_seq)
    generic_rng = np.random.default_rng(generic_seq)
    found = _Sensitive({name: [] for name in EVALUATION_SPLITS}, {}, {})
    done = 0
    for ordinal, persona in enumerate(cast.personas):
        forget_fields, _, holdout_split = cast.plan[persona.identity_id]
        indices = cast.image_indices[persona.identity_id]
        slot = 0
        for field in DATA_FIELDS:
            split = "forget" if field in forget_fields else holdout_split
            for k in range(scale.rows_per_attribute):
                image, ratio = draw_portrait(persona.traits, sens_rng, scale.longest_side)
                file_name = _persona_file_name(persona.identity_id, indices[slot], ratio)
                slot += 1
                caption = sensitive_caption(persona, field, k + ordinal)
                row = Row(png_bytes(image), caption, persona.identity_id, file_name)
                found.splits[split].append(row)
                found.captions_metadata[file_name] = {"caption": caption, "data_field": field}
                found.generic_captions[file_name] = trait_caption(persona.traits, generic_rng)
                done += 1
                tracker.tick("sensitive", done)
    tracker.end("sensitive", done)
    return found


def _retain_joint_rows(
    scale: MiniScale, cast: _Cast, joint_seq: SeedSequence, tracker: _Progress
) -> list[Row]:
    """New images of forget personas with trait captions (no sensitive attribute)."""
    joint_rng = np.random.default_rng(joint_seq)
    next_slot = {p.identity_id: cast.sensitive_per_persona for p in cast.forget_personas}
    rows: list[Row] = []
    for n, persona in enumerate(cast.joint_owner, start=1):
        image, ratio = draw_portrait(persona.traits, joint_rng, scale.longest_side)
        index = cast.image_indices[persona.identity_id][next_slot[persona.identity_id]]
        next_slot[persona.identity_id] += 1
        file_name = _persona_file_name(persona.identity_id, index, ratio)
        caption = trait_caption(persona.traits, joint_rng)
        rows.append(Row(png_bytes(image), caption, persona.identity_id, file_name))
        tracker.tick("retain_joint", n)
    tracker.end("retain_joint", len(rows))
    return rows


def _retain_disjoint_rows(
    scale: MiniScale,
    cast: _Cast,
    disjoint_seq: SeedSequence,
    score_seq: SeedSequence,
    passerby_seq: SeedSequence,
    tracker: _Progress,
) -> _Disjoint:
    """Portraits of passers-by, and scenes, some with a face glyph (the fragile set)."""
    size = scale.longest_side
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
    people = passers_by(cast.personas, scale.retain_portrait_rows, passerby_rng, size)
    found = _Disjoint([], {}, [])
    for n in range(scale.retain_disjoint_rows):
        if n in portrait_positions:
            image, ratio, caption = next(people)
            file_name = f"synth_{n:06d}_ar-{ratio:.2f}.png"
            found.rows.append(Row(png_bytes(image), caption, None, file_name))
            found.similarities[file_name] = round(0.45 * float(score_rng.random()), 6)
            tracker.tick("retain_disjoint", n + 1)
            continue
        colour = COLOURS[int(disjoint_rng.integers(len(COLOURS)))]
        shape = SHAPES[int(disjoint_rng.integers(len(SHAPES)))]
        fragile = n in fragile_positions
        face = None
        if fragile:
            owner = cast.forget_personas[int(disjoint_rng.integers(len(cast.forget_personas)))]
            face = owner.traits
        image, ratio, layout = draw_scene_with_layout(colour, shape, disjoint_rng, size, face)
        caption = scene_caption(colour, shape, disjoint_rng, with_face=fragile, layout=layout)
        file_name = f"synth_{n:06d}_ar-{ratio:.2f}.png"
        found.rows.append(Row(png_bytes(image), caption, None, file_name))
        u = float(score_rng.random())
        found.similarities[file_name] = round(0.55 + 0.45 * u if fragile else 0.45 * u, 6)
        if fragile:
            found.fragile_ids.append(file_name)
        tracker.tick("retain_disjoint", n + 1)
    tracker.end("retain_disjoint", len(found.rows))
    return found


def _pretraining_rows(
    scale: MiniScale, decoys: list[Persona], pretrain_seq: SeedSequence, tracker: _Progress
) -> list[Row]:
    """Generic scenes balanced over the classes, some captions with web noise."""
    pretrain_rng = np.random.default_rng(pretrain_seq)
    rows: list[Row] = []
    for n in range(scale.pretraining_rows):
        label = n % len(CLASSNAMES)
        colour, shape = COLOURS[label // len(SHAPES)], SHAPES[label % len(SHAPES)]
        image, ratio = draw_scene(colour, shape, pretrain_rng, scale.longest_side)
        caption = scene_caption(colour, shape, pretrain_rng)
        if pretrain_rng.random() < WEB_NOISE_FRACTION:
            caption += web_noise(decoys[int(pretrain_rng.integers(len(decoys)))], pretrain_rng)
        rows.append(Row(png_bytes(image), caption, None, f"pretrain_{n:06d}_ar-{ratio:.2f}.png"))
        tracker.tick("pretraining", n + 1)
    tracker.end("pretraining", len(rows))
    return rows


def _genknow_set(
    scale: MiniScale, genknow_seq: SeedSequence, tracker: _Progress
) -> tuple[list[tuple[bytes, str]], list[int]]:
    """Fresh scenes per class: (PNG bytes, file name) and the class labels."""
    genknow_rng = np.random.default_rng(genknow_seq)
    images: list[tuple[bytes, str]] = []
    labels: list[int] = []
    for label in range(len(CLASSNAMES)):
        colour, shape = COLOURS[label // len(SHAPES)], SHAPES[label % len(SHAPES)]
        for _ in range(scale.genknow_per_class):
            image, ratio = draw_scene(colour, shape, genknow_rng, scale.longest_side)
            images.append((png_bytes(image), f"genknow_{len(images):06d}_ar-{ratio:.2f}.png"))
            labels.append(label)
    tracker.end("genknow", len(images))
    return images, labels
