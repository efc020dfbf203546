"""`salmu-harness evaluate` against an official-style evaluation loop, on SALMU-mini.

    python measurements/evaluate_speed.py [--scale default] [--seed 0] [--json OUT.json]

Both evaluate the same two checkpoints (the Compromised weights with two different seeded
perturbations) with the same ten metrics on the same data:

- **official-style**: what the official evaluator does on every call: decode every PNG through
  the model's transform (batch 256, 4 DataLoader workers) and re-encode the Clean and the
  Compromised model for every evaluated checkpoint;
- **harness**: `salmu-harness evaluate CHECKPOINT` in a fresh cache. The first checkpoint fills
  the preprocessed-image cache and the reference cache; the second reads both.

Each evaluation runs in its own process, timed from start to exit, with the peak RSS of its
whole process tree (DataLoader workers included). A second table compares the harness's image
encoding (from the image cache) with a bare ``model.encode_image`` loop over tensors already in
memory, on the same model and images. SALMU-mini is taken from the user's harness cache (built
on first use).
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

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from process_tree import measure

OFFICIAL_BATCH, OFFICIAL_WORKERS = 256, 4


def perturbed_checkpoints(benchmark, folder: Path, count: int = 2) -> list[Path]:
    """``count`` checkpoints near the Compromised model (seeded noise), as safetensors."""
    from harness.run.models import load_clip

    model = load_clip(benchmark.models["compromised"].path).model
    paths = []
    for seed in range(1, count + 1):
        path = folder / f"checkpoint-{seed}.safetensors"
        save_perturbed(model.state_dict(), seed, path)
        paths.append(path)
    return paths


def save_perturbed(state: dict, seed: int, path: Path) -> None:
    """``state`` with seeded noise (1e-3 of each tensor's std) as a safetensors file."""
    import torch
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(seed)
    changed = {
        name: (t + 1e-3 * t.std() * torch.randn(t.shape, generator=generator))
        if t.is_floating_point() and t.numel() > 1
        else t.clone()
        for name, t in state.items()
    }
    save_file({k: v.contiguous() for k, v in changed.items()}, str(path))


def official_style(
    benchmark_spec: str, checkpoints: list[str], options: dict[str, str] | None = None
) -> list[dict]:
    """Evaluations the official way, several models per process: the benchmark is loaded
    once, then each checkpoint and the Clean and Compromised models are decoded and encoded
    anew, every PNG through the model's transform. Returns each model's seconds and where
    they went (decode = waiting for the DataLoader workers)."""
    import torch

    from harness.benchmarks import load_benchmark
    from harness.evaluation.context import EvaluationContext
    from harness.evaluation.embeddings import EmbeddingEngine
    from harness.evaluation.runner import evaluate_metrics
    from harness.evaluation.settings import EvaluationSettings
    from harness.evaluation.stages import StageClock
    from harness.plugins import load_plugins
    from harness.run.models import load_clip

    benchmark = load_benchmark(benchmark_spec, options or {})
    registry = load_plugins()
    metrics = registry.select_metrics(None)
    settings = EvaluationSettings(protocol=registry.protocol())
    architecture = f"local-dir:{benchmark.models['compromised'].path}"
    sources: list[tuple[Any, str | None]] = [(c, architecture) for c in checkpoints]
    sources += [(benchmark.models[r].path, None) for r in ("clean", "compromised")]
    timings = []
    for source, arch in sources:
        started = time.perf_counter()
        loaded = load_clip(source, architecture=arch)
        engine = EmbeddingEngine(
            loaded.model,
            loaded.tokenizer,
            loaded.preprocess_eval,
            torch.device("cpu"),
            batch_size=OFFICIAL_BATCH,
            num_workers=OFFICIAL_WORKERS,
            show_progress=False,
            clock=StageClock(),
            reuse_subsets=False,  # the official evaluator encodes forget_identity on its own
            shorten_texts=False,  # and every text at full context length
        )
        records = evaluate_metrics(EvaluationContext(benchmark, engine, settings), metrics)
        failed = [k for k, r in records.items() if r["status"] == "failed"]
        if failed:
            raise SystemExit(f"official-style evaluation failed for {failed}")
        seconds = time.perf_counter() - started
        stages = engine.clock.snapshot()
        stages["metrics"] = seconds - sum(stages.values())
        timings.append({"model": str(source), "seconds": seconds, "stages": stages})
    return timings


def encoding_throughput(benchmark, repeats: int = 3) -> dict[str, float]:
    """Images/s of the harness engine (image cache warm) and of a bare encode loop."""
    import torch
    import torch.nn.functional as F

    from harness.evaluation.embeddings import EmbeddingEngine
    from harness.evaluation.image_cache import ImageCache, PixelTransform
    from harness.run.models import load_clip

    loaded = load_clip(benchmark.models["compromised"].path)
    split = benchmark.split("retain_synth")
    engine = EmbeddingEngine(
        loaded.model,
        loaded.tokenizer,
        loaded.preprocess_eval,
        torch.device("cpu"),
        batch_size=256,
        show_progress=False,
        image_cache=ImageCache(),
        cache_scope=f"{benchmark.name}@{benchmark.revision}",
    )
    harness_encode = lambda: engine.images(split.dataset, content_sha256=split.sha256)  # noqa: E731
    harness_encode()  # fills the image cache
    pixels = PixelTransform.split(loaded.preprocess_eval)
    tensors = torch.stack(
        [loaded.preprocess_eval(r["image"].convert("RGB")) for r in split.dataset]
    )
    assert pixels is not None and engine.image_cache is not None
    cached = engine.image_cache.load(_key(engine, split))
    assert cached is not None and torch.equal(pixels.normalise(cached), tensors)

    def bare() -> torch.Tensor:
        with torch.inference_mode():
            return torch.cat(
                [
                    F.normalize(loaded.model.encode_image(tensors[i : i + 256]).float(), dim=-1)  # type: ignore[operator]
                    for i in range(0, len(tensors), 256)
                ]
            )

    best = {}
    for name, function in (("harness", harness_encode), ("bare", bare)):
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            function()
            times.append(time.perf_counter() - started)
        best[name] = len(tensors) / min(times)
    return best


def _key(engine, split) -> str:
    from harness.evaluation.image_cache import content_key

    return content_key(
        engine.cache_scope, split.sha256, "image", engine.pixel_transform.description
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--official", nargs=2, metavar=("BENCHMARK", "CHECKPOINT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.official:
        official_style(args.official[0], [args.official[1]])
        return

    from harness.builtin.mini.build import ensure_mini

    mini = ensure_mini(args.scale, args.seed, show_progress=False)
    with tempfile.TemporaryDirectory(prefix="salmu-evaluate-speed-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "SALMU_HARNESS_CACHE": str(work / "cache"), "SALMU_HARNESS_QUIET": "1"}
        from harness.benchmarks.local import load_local_benchmark

        benchmark = load_local_benchmark(mini)
        checkpoints = perturbed_checkpoints(benchmark, work)
        rows, figures = [], {}
        for index, checkpoint in enumerate(checkpoints, start=1):
            official = measure(
                [sys.executable, __file__, "--official", str(mini), str(checkpoint)], env
            )
            harness = measure(
                [
                    sys.executable,
                    "-m",
                    "harness.cli",
                    "evaluate",
                    str(checkpoint),
                    "--benchmark",
                    str(mini),
                    "--output",
                    str(work / "results"),
                    "--quiet",
                    "--device",
                    "cpu",  # the official-style loop runs on the CPU too
                ],
                env,
            )
            for run in (official, harness):
                if run.returncode != 0:
                    sys.exit(f"a measured command failed:\n{run.stderr[-2000:]}")
            label = "first model (cold caches)" if index == 1 else "second model (warm caches)"
            rows.append(
                [
                    label,
                    f"{official.seconds:.1f}",
                    f"{harness.seconds:.1f}",
                    f"{official.seconds / harness.seconds:.2f}x",
                    f"{official.peak_bytes / 2**30:.2f}",
                    f"{harness.peak_bytes / 2**30:.2f}",
                ]
            )
            figures[f"model_{index}"] = {
                "official_seconds": official.seconds,
                "harness_seconds": harness.seconds,
                "official_peak_bytes": official.peak_bytes,
                "harness_peak_bytes": harness.peak_bytes,
            }
        os.environ.update(env)
        throughput = encoding_throughput(benchmark)
    figures["throughput_images_per_second"] = throughput
    print(f"SALMU-mini {benchmark.revision}, {os.cpu_count()} CPU cores, torch threads default\n")
    print(
        tabulate(
            rows,
            [
                "evaluation",
                "official-style s",
                "harness s",
                "speed-up",
                "official peak GiB",
                "harness peak GiB",
            ],
            tablefmt="github",
        )
    )
    ratio = throughput["harness"] / throughput["bare"]
    print()
    print(
        tabulate(
            [
                ["harness engine (image cache)", f"{throughput['harness']:.0f}"],
                ["bare encode_image loop", f"{throughput['bare']:.0f}"],
                ["harness / bare", f"{ratio:.1%}"],
            ],
            ["image encoding, retain_synth", "images/s"],
            tablefmt="github",
        )
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
