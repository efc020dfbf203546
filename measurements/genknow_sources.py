"""How long `salmu-harness genknow check` takes on an ImageNet-val-sized set, in each form.

    python measurements/genknow_sources.py [--images 50000] [--classes 1000] [--root DIR] [--keep]

Writes one set of ``--images`` JPEGs (ImageNet val's size: 500x375, about 110-130 KB each,
every image's bytes its own) as an ImageFolder (``n00000000/ILSVRC2012_val_*.JPEG``), as
parquet shards in the hub's layout (``data/validation-*.parquet``, image bytes embedded) and
as a CLIP_benchmark webdataset (``classnames.txt`` + ``test/*.tar``), then runs
``salmu-harness genknow check`` on each form twice, each time in a fresh process: cold (empty
datasets and harness caches) and warm. It prints the wall times, the disk each form and its
datasets cache use, and checks that every form reports the same content hash. The files are
removed at the end unless ``--keep`` (a later run with the same sizes then reuses them).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from tabulate import tabulate

SIZE = (500, 375)
PER_SHARD = 1000


def jpeg(rng: np.random.Generator) -> bytes:
    """A photo-like JPEG: smooth colour fields with fine noise, about 120 KB at quality 94
    (ImageNet val's JPEGs average 128 KB)."""
    base = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    image = Image.fromarray(base).resize(SIZE, Image.Resampling.BICUBIC)
    pixels = np.asarray(image, dtype=np.int16) + rng.integers(-28, 29, size=(SIZE[1], SIZE[0], 3))
    buffer = io.BytesIO()
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=94)
    return buffer.getvalue()


def write_forms(root: Path, images: int, classes: int) -> dict[str, Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import webdataset as wds
    from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES

    forms = {"imagefolder": root / "val", "parquet": root / "hub", "webdataset": root / "wds"}
    (forms["parquet"] / "data").mkdir(parents=True)
    (forms["webdataset"] / "test").mkdir(parents=True)
    names = list(IMAGENET_CLASSNAMES) if classes == 1000 else [f"class {i}" for i in range(classes)]
    (forms["webdataset"] / "classnames.txt").write_text("\n".join(names) + "\n")
    shards = -(-images // PER_SHARD)
    (forms["webdataset"] / "test" / "nshards.txt").write_text(f"{shards}\n")
    rng = np.random.default_rng(0)
    schema = pa.schema(
        [
            ("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
            ("label", pa.int64()),
        ]
    )
    clock = time.perf_counter()
    for shard in range(shards):
        rows = range(shard * PER_SHARD, min(images, (shard + 1) * PER_SHARD))
        data, labels, keys = [], [], []
        with wds.TarWriter(str(forms["webdataset"] / "test" / f"{shard}.tar")) as sink:
            for index in rows:
                label = index % classes
                payload = jpeg(rng)
                key = f"ILSVRC2012_val_{index + 1:08d}"
                folder = forms["imagefolder"] / f"n{label:08d}"
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{key}.JPEG").write_bytes(payload)
                sink.write({"__key__": f"s{index:07d}", "jpg": payload, "cls": str(label).encode()})
                data.append({"bytes": payload, "path": f"{key}.JPEG"})
                labels.append(label)
                keys.append(key)
        table = pa.table({"image": data, "label": labels}, schema=schema)
        name = f"validation-{shard:05d}-of-{shards:05d}.parquet"
        pq.write_table(table, forms["parquet"] / "data" / name)
        print(f"\rwritten {rows.stop:,} of {images:,} images", end="", file=sys.stderr)
    print(f"\nwrote the three forms in {time.perf_counter() - clock:.0f} s", file=sys.stderr)
    return forms


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def check(source: Path, caches: Path) -> tuple[float, dict]:
    environment = {
        **os.environ,
        "HF_DATASETS_CACHE": str(caches / "datasets"),
        "SALMU_HARNESS_CACHE": str(caches / "harness"),
    }
    command = [sys.executable, "-m", "harness.cli", "genknow", "check", str(source), "--json"]
    clock = time.perf_counter()
    done = subprocess.run(command, env=environment, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"genknow check {source} failed:\n{done.stderr}")
    return time.perf_counter() - clock, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50_000)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--root", type=Path, default=Path("genknow-bench"))
    parser.add_argument("--keep", action="store_true", help="keep the written sets")
    args = parser.parse_args()
    marker = args.root / "sets" / "written.json"
    wanted = {"images": args.images, "classes": args.classes, "size": list(SIZE)}
    if marker.is_file() and json.loads(marker.read_text()) == wanted:
        sets = args.root / "sets"  # written by an earlier --keep run: only the caches go
        forms = {"imagefolder": sets / "val", "parquet": sets / "hub", "webdataset": sets / "wds"}
        shutil.rmtree(args.root / "caches", ignore_errors=True)
    else:
        shutil.rmtree(args.root, ignore_errors=True)
        forms = write_forms(args.root / "sets", args.images, args.classes)
        marker.write_text(json.dumps(wanted))
    rows, hashes = [], set()
    for form, source in forms.items():
        caches = args.root / "caches" / form
        cold, found = check(source, caches)
        warm, again = check(source, caches)
        hashes |= {found["sha256"], again["sha256"]}
        rows.append(
            [
                form,
                f"{found['rows']:,}",
                f"{cold:.1f}",
                f"{warm:.1f}",
                f"{folder_bytes(source) / 2**30:.2f}",
                f"{folder_bytes(caches / 'datasets') / 2**30:.2f}",
            ]
        )
    headers = ["form", "images", "cold s", "warm s", "set GiB", "datasets cache GiB"]
    print(f"{args.images:,} images of {args.classes:,} classes, {os.cpu_count()} CPU cores")
    print(tabulate(rows, headers=headers))
    print("content hash: " + ("identical in every form" if len(hashes) == 1 else "DIFFERS"))
    if not args.keep:
        shutil.rmtree(args.root)
    if len(hashes) != 1:
        sys.exit(1)


if __name__ == "__main__":
    main()
