"""Images per second delivered to a method, at the real benchmark's image size.

    python measurements/train_data_path.py [--fraction 0.03] [--model ViT-B-16] [--json F]

Reads the forget split of the full-size rehearsal (``rehearsal_data.py``: 512 px PNGs of about
56 KB, as the real ones) through ``--model``'s ``preprocess_train`` (ViT-B-16: a 224 px random
resized crop), in batches of ``--batch-size`` (128), and prints images/s for:

- the per-image PIL path in the main process, as methods read before the training image cache
  (``SplitView.rows`` decoding and transforming one image at a time, nothing ahead);
- the exact path (today's pixels, seeded per sample) with 0 and 2 workers;
- the cached path: cold (the first read decodes the split into a fresh cache) and warm, with
  0, 1 and 2 workers (each figure reads ``--batches`` batches after the first).

Then a synthetic step of known duration (a sleep of the warm path's measured time per batch)
shows that a run takes about max(data time, compute time), not their sum: the data path
prepares batches in worker processes while the step runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rehearsal_data import ensure_rehearsal


def _forget_split(folder: Path) -> Any:
    from harness.benchmarks.salmubench import load_salmubench

    benchmark = load_salmubench(
        {
            "dataset": str(folder / "dataset"),
            "compromised": f"local-dir:{folder / 'models' / 'compromised'}",
            "clean": f"local-dir:{folder / 'models' / 'clean'}",
        }
    )
    return benchmark.split("forget")


def per_image_main_process(split: Any, transform: Any, tokenizer: Any, batch: int, count: int):
    """Images/s of the loop methods used before: select, decode, transform, one at a time."""
    rng = np.random.default_rng(0)
    order = np.concatenate(
        [rng.permutation(len(split)) for _ in range(-(-batch * count // len(split)))]
    )
    started = time.perf_counter()
    for k in range(count):
        rows = [int(i) for i in order[k * batch : (k + 1) * batch]]
        records = split.dataset.select(rows)
        torch.stack([transform(r["image"].convert("RGB")) for r in records])
        tokenizer([split.texts[i] for i in rows])
    return count * batch / (time.perf_counter() - started)


def view(split: Any, transform: Any, tokenizer: Any, workers: int, cache: bool, root: Path):
    from harness.context import SplitView
    from harness.evaluation.image_cache import ImageCache
    from harness.run.budget import Budget
    from harness.training_data import DataPath

    data = DataPath(
        seed=0,
        workers=workers,
        image_cache=cache,
        scope="rehearsal",
        show_progress=False,
        cache=ImageCache(root),
    )
    return SplitView(split, Budget(1000.0, len(split)), transform, tokenizer, data=data), data


def delivered(split_view: Any, batch: int, count: int, step_seconds: float = 0.0):
    """(images/s after the first batch, seconds for the first batch, seconds waited)."""
    stream = split_view.batches(batch, np.random.default_rng(0))
    clock = time.perf_counter()
    next(stream)
    first = time.perf_counter() - clock
    data = split_view._data
    waited = data.wait_seconds
    clock = time.perf_counter()
    for _ in range(count):
        next(stream)
        if step_seconds:
            time.sleep(step_seconds)
    seconds = time.perf_counter() - clock
    stream.close()
    return count * batch / seconds, first, data.wait_seconds - waited, seconds


def pixel_difference(split: Any, transform: Any, root: Path, rows: int = 256) -> dict:
    """How far the cached path's images are from the exact path's, same draws, in uint8
    levels (the normalised difference times 255 x std): mean, 99th percentile, max."""
    from harness.evaluation.image_cache import ImageCache
    from harness.training_data.draws import sample_seed
    from harness.training_data.stream import DataPath

    chosen = list(range(min(rows, len(split))))
    seeds = [sample_seed(0, split.name, "compare", row) for row in chosen]
    data = DataPath(
        image_cache=True, scope="rehearsal", show_progress=False, cache=ImageCache(root)
    )
    cached = data.source(split, transform)
    exact = DataPath(image_cache=False).source(split, transform)
    device = torch.device("cpu")
    a = cached.finish(cached.images(chosen, seeds), device)
    b = exact.finish(exact.images(chosen, seeds), device)
    std = torch.tensor(transform.transforms[-1].std).view(1, 3, 1, 1)
    levels = ((a - b).abs() * std * 255).flatten()
    return {
        "rows": len(chosen),
        "mean_levels": float(levels.mean()),
        "p99_levels": float(np.percentile(levels.numpy(), 99)),
        "max_levels": float(levels.max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.03)
    parser.add_argument("--model", default="ViT-B-16")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--batches", type=int, default=20, help="batches timed per figure")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    import open_clip

    folder = ensure_rehearsal(args.fraction)
    split = _forget_split(folder)
    _, transform, _ = open_clip.create_model_and_transforms(args.model, pretrained=None)
    tokenizer = open_clip.get_tokenizer(args.model)
    batch, count = args.batch_size, args.batches
    rows: list[list[Any]] = []
    figures: dict[str, Any] = {"cores": os.cpu_count(), "batch": batch, "model": args.model}
    rate = per_image_main_process(split, transform, tokenizer, batch, count)
    figures["per_image_main_process"] = rate
    rows.append(["per-image PIL, main process (before)", "-", f"{rate:,.0f}", ""])
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        for workers in (0, 2):
            split_view, _ = view(split, transform, tokenizer, workers, False, root)
            rate, *_ = delivered(split_view, batch, count)
            figures[f"exact_w{workers}"] = rate
            rows.append([f"exact path, {workers} workers", workers, f"{rate:,.0f}", ""])
        split_view, data = view(split, transform, tokenizer, 2, True, root)
        rate, *_ = delivered(split_view, batch, count)
        figures["cold_build_seconds"] = data.cache_build_seconds
        figures["cold_w2"] = rate
        rows.append(
            [
                "cache cold (decode once, 2 workers)",
                2,
                f"{rate:,.0f}",
                f"build {data.cache_build_seconds:.1f} s for {len(split):,} images "
                f"({len(split) / data.cache_build_seconds:,.0f}/s)",
            ]
        )
        for workers in (0, 1, 2):
            split_view, _ = view(split, transform, tokenizer, workers, True, root)
            rate, *_ = delivered(split_view, batch, count)
            figures[f"warm_w{workers}"] = rate
            per_core = rate / max(1, workers) if workers else rate
            rows.append(
                [
                    f"cache warm, {workers} workers",
                    workers,
                    f"{rate:,.0f}",
                    f"{per_core:,.0f} per worker" if workers else "main process",
                ]
            )
        figures["pixels"] = pixel_difference(split, transform, root)
        # a synthetic step as long as one batch takes to prepare with one worker
        split_view, _ = view(split, transform, tokenizer, 1, True, root)
        rate, *_ = delivered(split_view, batch, count)
        data_seconds = count * batch / rate
        step = data_seconds / count
        split_view, _ = view(split, transform, tokenizer, 1, True, root)
        _, _, waited, wall = delivered(split_view, batch, count, step_seconds=step)
        compute = step * count
        figures["overlap"] = {
            "data_seconds": data_seconds,
            "compute_seconds": compute,
            "wall_seconds": wall,
            "waited_seconds": waited,
            "ratio_to_max": wall / max(data_seconds, compute),
            "sum_to_max": (data_seconds + compute) / max(data_seconds, compute),
        }
    print(
        f"forget split of the rehearsal at fraction {args.fraction}: {len(split):,} images, "
        f"{args.model} preprocess_train, batches of {batch}, {os.cpu_count()} cores"
    )
    print(tabulate(rows, ["path", "workers", "images/s", "note"]))
    o = figures["overlap"]
    print(
        f"\nsynthetic step of {step * 1e3:.0f} ms per batch, 1 worker: data alone "
        f"{o['data_seconds']:.2f} s, steps alone {o['compute_seconds']:.2f} s, together "
        f"{o['wall_seconds']:.2f} s = {o['ratio_to_max']:.2f}x max(data, compute) "
        f"(their sum would be {o['sum_to_max']:.2f}x); "
        f"waited {o['waited_seconds']:.2f} s"
    )
    d = figures["pixels"]
    print(
        f"cached against exact pixels, same draws, {d['rows']} images: "
        f"mean {d['mean_levels']:.2f}, "
        f"99th percentile {d['p99_levels']:.1f}, max {d['max_levels']:.0f} uint8 levels"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
