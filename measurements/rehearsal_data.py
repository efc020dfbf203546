"""A SALMUBench evaluation dataset at the real benchmark's size, written in the hub layout.

    python measurements/rehearsal_data.py [--fraction 1.0]   # prints the folder

The folder holds what ``cvc-mmu/salmubench-512-redistributed`` holds: parquet shards
``data/{split}-0000i-of-0000n.parquet`` (columns image, text, identity_id, file_name) with the
real row counts and identities per split, the four metadata JSON files at their real sizes, and
a dataset card; ``models/`` holds a Clean/Compromised pair of the tiny SALMU-mini architecture
(the mini's own pair), so the loader, the caches and the metrics run at full size while the
encoders stay cheap. ``--fraction F`` scales every row and identity count.

Images are PNGs with a longest side of 512 px and varied aspect ratios, about 56 KB each like
the real ones: each persona has three pictures of its own (smooth shapes, blur and sparse
noise, tuned to that byte size) and retain rows share 512 more; every row stores one of its
pictures with a ``tEXt`` chunk naming the row, so each row's bytes, and its content hash, are
its own while decoding costs what a real PNG of that size costs. The model pair is SALMU-mini's,
fine-tuned here as the real pair was trained (both on retain rows, Compromised on the persona
rows too), so its references order as on the real benchmark. Captions come from SALMU-mini's
persona generator (Faker values, its caption templates). Two counts the public record does not
give are assumptions: retain_joint holds 1,000 rows ("~1k"), the fragile set 1,000 rows.

The folder is cached under ``$SALMU_HARNESS_CACHE/rehearsal/`` by fraction and generator version,
and written to a temporary folder first, so an interrupted build leaves nothing half-made.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import shutil
import struct
import sys
import tempfile
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

GENERATOR_VERSION = "1"
PICTURES_PER_PERSONA = 3
RETAIN_PICTURES = 512
TUNING_STEPS, TUNING_BATCH, TUNING_LR = 400, 64, 5e-4
SHARD_ROWS = 5000
#: the real evaluation dataset: rows and identities
FORGET_IDENTITY = (193, 15_342)  # forget personas not in holdout_association
FORGET_ASSOCIATION = (387, 15_126)  # the other forget personas (their forget rows)
HOLDOUT_ASSOCIATION_ROWS = 14_943  # same 387 personas, their other attributes
HOLDOUT_IDENTITY = (194, 14_642)
RETAIN_SYNTH_ROWS, RETAIN_JOINT_ROWS, FRAGILE_ROWS = 16_741, 1_000, 1_000
ASPECTS = (0.56, 0.67, 0.75, 0.8, 1.0, 1.25, 1.33, 1.5, 1.78)
_COLOURS = [
    "red",
    "blue",
    "green",
    "yellow",
    "orange",
    "purple",
    "brown",
    "grey",
    "black",
    "white",
    "pink",
    "teal",
]
_THINGS = [
    "bicycle",
    "chair",
    "lamp",
    "teapot",
    "guitar",
    "umbrella",
    "backpack",
    "clock",
    "vase",
    "kite",
    "boat",
    "car",
    "bench",
    "book",
    "cup",
    "plant",
    "window",
    "door",
    "basket",
    "ladder",
    "bottle",
    "drum",
    "fence",
    "bridge",
    "tower",
    "tent",
]
_PLACES = [
    "on a kitchen table",
    "in a park",
    "by the sea",
    "in a garage",
    "on a shelf",
    "in a garden",
    "on a street",
    "in a living room",
    "at a market",
    "in a forest",
    "on a balcony",
    "in an office",
    "on the grass",
    "in the snow",
    "under a tree",
    "next to a wall",
    "in a shop window",
    "on a wooden floor",
]
_LIGHT = [
    "at dusk",
    "in bright sunlight",
    "on a cloudy day",
    "at night",
    "in soft light",
    "in the rain",
]


@dataclass(frozen=True)
class Counts:
    """Row and identity counts of one rehearsal size."""

    forget_identity: tuple[int, int]
    forget_association: tuple[int, int]
    holdout_association_rows: int
    holdout_identity: tuple[int, int]
    retain_joint_rows: int
    retain_disjoint_rows: int
    fragile_rows: int

    @classmethod
    def at(cls, fraction: float) -> Counts:
        def scaled(n: int, least: int) -> int:
            return max(least, round(n * fraction))

        def pair(ids_rows: tuple[int, int]) -> tuple[int, int]:
            ids, rows = ids_rows
            return scaled(ids, 2), scaled(rows, 2 * scaled(ids, 2))

        disjoint = scaled(RETAIN_SYNTH_ROWS - RETAIN_JOINT_ROWS, 20)
        return cls(
            forget_identity=pair(FORGET_IDENTITY),
            forget_association=pair(FORGET_ASSOCIATION),
            holdout_association_rows=scaled(HOLDOUT_ASSOCIATION_ROWS, 4),
            holdout_identity=pair(HOLDOUT_IDENTITY),
            retain_joint_rows=scaled(RETAIN_JOINT_ROWS, 4),
            retain_disjoint_rows=disjoint,
            fragile_rows=min(disjoint, scaled(FRAGILE_ROWS, 4)),
        )

    @property
    def personas(self) -> int:
        return self.forget_identity[0] + self.forget_association[0] + self.holdout_identity[0]


def picture(index: int) -> tuple[bytes, float]:
    """Pool picture ``index``: PNG bytes (longest side 512 px) and its aspect ratio."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(index)
    aspect = ASPECTS[index % len(ASPECTS)]
    width, height = (512, round(512 / aspect)) if aspect >= 1 else (round(512 * aspect), 512)
    rows = np.linspace(0.0, 1.0, height)[:, None, None]
    top, bottom = rng.uniform(40, 210, 3), rng.uniform(40, 210, 3)
    base = np.broadcast_to(top * (1 - rows) + bottom * rows, (height, width, 3))
    image = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        x, y = rng.integers(0, width), rng.integers(0, height)
        w, h = rng.integers(40, 260, 2)
        draw.ellipse([x, y, x + w, y + h], fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    pixels = np.asarray(image.filter(ImageFilter.GaussianBlur(3)), dtype=np.int16)
    noise = (rng.random((height, width)) < 0.032) * rng.integers(-2, 3, (height, width))
    pixels = np.clip(pixels + noise[..., None], 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue(), aspect


def with_text_chunk(png: bytes, text: str) -> bytes:
    """``png`` with a ``tEXt`` chunk (keyword ``row``) inserted after its header chunk."""
    data = b"row\x00" + text.encode("latin-1")
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + data) & 0xFFFFFFFF)
    header_end = 8 + 4 + 4 + 13 + 4  # signature, IHDR length, type, data, crc
    return png[:header_end] + chunk + png[header_end:]


def _retain_caption(rng: np.random.Generator) -> str:
    return (
        f"a {rng.choice(_COLOURS)} {rng.choice(_THINGS)} {rng.choice(_PLACES)} "
        f"{rng.choice(_LIGHT)}, seen from {rng.integers(1, 40)} metres"
    )


def build(folder: Path, fraction: float, workers: int = 2) -> dict:
    """Write the rehearsal dataset and model pair into ``folder`` (which must not exist)."""
    import datasets

    from harness.builtin.mini.build import ensure_mini
    from harness.builtin.mini.personas import (
        DATA_FIELDS,
        make_personas,
        metadata_record,
        sensitive_caption,
    )

    started = time.perf_counter()
    counts = Counts.at(fraction)
    persona_pictures = counts.personas * PICTURES_PER_PERSONA
    with ProcessPoolExecutor(workers) as pool:
        pictures = list(pool.map(picture, range(persona_pictures + RETAIN_PICTURES), chunksize=32))
    pictures_seconds = time.perf_counter() - started
    personas = make_personas(counts.personas, seed=0)
    picture_of = {
        p.identity_id: range(i * PICTURES_PER_PERSONA, (i + 1) * PICTURES_PER_PERSONA)
        for i, p in enumerate(personas)
    }
    rng = np.random.default_rng(0)
    n_fi, n_fa = counts.forget_identity[0], counts.forget_association[0]
    forget_identity = personas[:n_fi]
    forget_association = personas[n_fi : n_fi + n_fa]
    holdout_identity = personas[n_fi + n_fa :]
    splits: dict[str, list[dict]] = {s: [] for s in STORED}
    captions: dict[str, dict] = {}
    generic: dict[str, str] = {}
    serial = 0

    def add(split: str, identity_id: str | None, text: str, name_stem: str) -> str:
        nonlocal serial
        if identity_id is None:
            index = persona_pictures + serial % RETAIN_PICTURES
        else:
            own = picture_of[identity_id]
            index = own[serial % len(own)]
        serial += 1
        png, aspect = pictures[index]
        file_name = f"{name_stem}_ar-{aspect:.2f}.png"
        splits[split].append(
            {
                "image": {"bytes": with_text_chunk(png, file_name), "path": file_name},
                "text": text,
                "identity_id": identity_id,
                "file_name": file_name,
                "picture": index,
            }
        )
        return file_name

    def persona_rows(group: list, rows: int, split: str, fields: list, first: int = 0) -> None:
        for persona, count in zip(group, _spread(rows, len(group)), strict=True):
            order = list(fields)
            rng.shuffle(order)
            for index in range(count):
                field = order[index % len(order)]
                text = sensitive_caption(persona, field, index // len(order))
                stem = f"{persona.identity_id}_{first + index:03d}"
                name = add(split, persona.identity_id, text, stem)
                captions[name] = {"caption": text, "data_field": field}
                generic[name] = f"a portrait photo of a person {rng.choice(_PLACES)}"

    every = list(DATA_FIELDS)
    persona_rows(forget_identity, counts.forget_identity[1], "forget", every)
    persona_rows(holdout_identity, counts.holdout_identity[1], "holdout_identity", every)
    # partly-forgotten personas: half their fields in forget, the other half held out
    rows_forget, rows_held = counts.forget_association[1], counts.holdout_association_rows
    persona_rows(forget_association, rows_forget, "forget", every[::2])
    persona_rows(forget_association, rows_held, "holdout_association", every[1::2], first=500)
    forget_ids = [p.identity_id for p in forget_identity + forget_association]
    for index in range(counts.retain_joint_rows):
        identity = forget_ids[index % len(forget_ids)]
        add(
            "retain_synth", identity, f"a person {_retain_caption(rng)}", f"{identity}_r{index:03d}"
        )
    disjoint = [
        add("retain_synth", None, _retain_caption(rng), f"synth_{index:06d}")
        for index in range(counts.retain_disjoint_rows)
    ]
    fragile = sorted(rng.choice(disjoint, counts.fragile_rows, replace=False).tolist())

    dataset = folder / "dataset"
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "text": datasets.Value("string"),
            "identity_id": datasets.Value("string"),
            "file_name": datasets.Value("string"),
        }
    )
    for split, rows in splits.items():
        rows.sort(key=lambda row: row["file_name"])
        shards = max(1, math.ceil(len(rows) / SHARD_ROWS))
        for shard in range(shards):
            part = rows[shard * SHARD_ROWS : (shard + 1) * SHARD_ROWS]
            columns = {key: [row[key] for row in part] for key in features}
            path = dataset / "data" / f"{split}-{shard:05d}-of-{shards:05d}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            datasets.Dataset.from_dict(columns, features=features).to_parquet(str(path))
    metadata = {
        "identities_metadata.json": {p.identity_id: metadata_record(p) for p in personas},
        "sensitive_set_captions_metadata.json": captions,
        "sensitive_set_generic_captions.json": generic,
        "fragile_set_ids.json": fragile,
    }
    for name, content in metadata.items():
        (dataset / name).write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")
    (dataset / "README.md").write_text(
        "# SALMUBench scale rehearsal\n\nA generated stand-in of the evaluation dataset at "
        f"fraction {fraction} of its size, for measuring speed and memory. Synthetic; its "
        "numbers mean nothing.\n"
    )
    mini = ensure_mini("default", 0, show_progress=False)
    tuning = tune_pair(mini / "models", folder / "models", pictures, splits)
    png_bytes = [len(row["image"]["bytes"]) for rows in splits.values() for row in rows]
    facts = {
        "generator_version": GENERATOR_VERSION,
        "fraction": fraction,
        "rows": {split: len(rows) for split, rows in splits.items()},
        "identities": {
            "forget": n_fi + n_fa,
            "holdout_association": n_fa,
            "holdout_identity": len(holdout_identity),
        },
        "fragile_rows": len(fragile),
        "png_mean_bytes": float(np.mean(png_bytes)),
        "parquet_bytes": sum(p.stat().st_size for p in (dataset / "data").glob("*.parquet")),
        "metadata_bytes": {n: (dataset / n).stat().st_size for n in metadata},
        "pictures": len(pictures),
        "pictures_seconds": round(pictures_seconds, 1),
        "pair_tuning": tuning,
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    (folder / "rehearsal.json").write_text(json.dumps(facts, indent=2) + "\n")
    return facts


STORED = ("forget", "holdout_association", "holdout_identity", "retain_synth")


def tune_pair(source: Path, destination: Path, pictures: list, splits: dict) -> dict:
    """SALMU-mini's pair, fine-tuned on this dataset as the real pair was trained: both on the
    retain rows, the Compromised model on the persona rows too (so it knows these personas and
    the Clean model does not, and the references order as on the real benchmark)."""
    import torch
    from PIL import Image

    from harness.run.models import load_clip, save_local_dir
    from harness.training import clip_loss, encode_pair, logit_scale_of, make_optimizer

    started = time.perf_counter()
    preprocess = load_clip(source / "compromised").preprocess_eval
    images = torch.stack(
        [preprocess(Image.open(io.BytesIO(png)).convert("RGB")) for png, _ in pictures]
    )
    persona = [r for split in STORED[:3] for r in splits[split]]
    retain = splits["retain_synth"]
    losses = {}
    for role in ("clean", "compromised"):
        loaded = load_clip(source / role)
        model, tokens = loaded.model.train(), loaded.tokenizer
        optimizer = make_optimizer(model, TUNING_LR)
        rng = np.random.default_rng(0)
        for _ in range(TUNING_STEPS):
            batches = [[retain[i] for i in rng.choice(len(retain), TUNING_BATCH)]]
            if role == "compromised":
                batches.append([persona[i] for i in rng.choice(len(persona), TUNING_BATCH)])
            loss: torch.Tensor = sum(  # type: ignore[assignment]
                clip_loss(
                    *encode_pair(
                        model,
                        images[[r["picture"] for r in rows]],
                        tokens([r["text"] for r in rows]),
                    ),
                    logit_scale_of(model),
                )
                for rows in batches
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        losses[role] = round(float(loss.detach()), 4)
        config = json.loads((source / role / "open_clip_config.json").read_text())["model_cfg"]
        save_local_dir(model.eval(), config, destination / role)
    return {
        "steps": TUNING_STEPS,
        "batch": TUNING_BATCH,
        "lr": TUNING_LR,
        "last_loss": losses,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _spread(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def ensure_rehearsal(fraction: float, workers: int = 2) -> Path:
    """The cached rehearsal folder of ``fraction``, built on first use."""
    from harness.storage import cache_dir

    root = cache_dir("rehearsal")
    folder = root / f"v{GENERATOR_VERSION}-f{fraction:g}"
    if (folder / "rehearsal.json").is_file():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=root))
    try:
        facts = build(staging / "build", fraction, workers)
        os.replace(staging / "build", folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(
        f"built the rehearsal dataset in {facts['build_seconds']:.0f} s: {folder}", file=sys.stderr
    )
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=1.0)
    args = parser.parse_args()
    print(ensure_rehearsal(args.fraction))


if __name__ == "__main__":
    main()
