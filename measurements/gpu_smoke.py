"""GPU smoke test and throughput: ViT-B-16 through `evaluate` and one method, in bf16.

    bash measurements/gpu_smoke.sh                      # on a machine with a CUDA GPU
    python measurements/gpu_smoke.py --device cpu --model salmu-mini-vit --precision fp32
                                                      # the same steps, tiny, on a CPU

Steps: (1) the device's measured dense matmul peak (bf16 on GPU); (2) a benchmark folder from
the test-scale SALMU-mini whose Clean and Compromised model is one randomly initialised
``--model`` (ViT-B-16: the mini images are resized to 224 by its transform); (3) `evaluate`
of the Compromised model, and the embedding engine's image throughput with the image cache
warm, as images/s and as a fraction of the matmul peak (forward FLOPs counted by
``torch.utils.flop_counter``); (4) `run finetune` for ``--steps`` optimizer steps: pairs/s,
the share of the method's time spent waiting for data, and the data path's own rate (batches
delivered with no step, workers = the machine's cores, training image cache warm). Prints a
table with the GPU model and the date; record it in docs/performance.md. The evaluation batch
size is found automatically unless ``--batch-size`` is given. Cache entries go to the harness
cache, scoped by the smoke benchmark's own revision (`salmu-harness cache clear` removes them).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import open_clip
import torch
from tabulate import tabulate
from torch.utils.flop_counter import FlopCounterMode

from harness.benchmarks.local import load_local_benchmark
from harness.builtin.mini.build import ensure_mini
from harness.builtin.mini.training import register_config
from harness.evaluation.embeddings import EmbeddingEngine
from harness.evaluation.image_cache import ImageCache
from harness.plugins import load_plugins
from harness.run.checkpoints import evaluate_checkpoint
from harness.run.models import load_clip, save_local_dir
from harness.run.pipeline import run_method
from harness.run.settings import RunOptions

AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def matmul_peak(device: torch.device, precision: str) -> float:
    """Measured FLOP/s of a large square matmul in ``precision`` (the practical peak)."""
    dtype = AUTOCAST[precision] if device.type == "cuda" else torch.float32
    n = 8192 if device.type == "cuda" else 1024
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    _sync(device)
    iterations = 50 if device.type == "cuda" else 5
    started = time.perf_counter()
    for _ in range(iterations):
        a @ b
    _sync(device)
    return 2 * n**3 * iterations / (time.perf_counter() - started)


def smoke_benchmark(model_name: str, work: Path) -> Path:
    """The test mini with randomly initialised ``model_name`` as Clean and Compromised."""
    source = ensure_mini("test", 0, show_progress=False)
    folder = work / f"gpu-smoke-{model_name}"
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("models"))
    config = open_clip.get_model_config(model_name)
    manifest = json.loads((folder / "benchmark.json").read_text())
    # one random model in both roles: two random models give references that contradict the
    # metrics' directions, which the harness refuses to record
    torch.manual_seed(0)
    model = open_clip.create_model(model_name, pretrained=None)
    for role in ("compromised", "clean"):
        save_local_dir(model, config, folder / "models" / role)
        manifest["models"][role] = {"id": f"random-{model_name}", "path": f"models/{role}"}
    manifest["revision"] = f"gpu-smoke-{model_name}"
    (folder / "benchmark.json").write_text(json.dumps(manifest, indent=2))
    return folder


def forward_flops(model: torch.nn.Module, batch: torch.Tensor) -> float:
    """FLOPs of one ``encode_image`` forward per image."""
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model.encode_image(batch)  # type: ignore[operator]
    return counter.get_total_flops() / len(batch)


def engine_throughput(
    folder: Path, device: torch.device, precision: str, batch: int | None
) -> tuple[float, float]:
    """Images/s of the harness engine (image cache warm) and forward FLOPs per image."""
    benchmark = load_local_benchmark(folder)
    loaded = load_clip(benchmark.models["compromised"].path)
    split = benchmark.split("retain_synth")
    engine = EmbeddingEngine(
        loaded.model,
        loaded.tokenizer,
        loaded.preprocess_eval,
        device,
        precision,
        batch_size=batch,
        show_progress=False,
        image_cache=ImageCache(),
        cache_scope=f"{benchmark.name}@{benchmark.revision}",
    )
    engine.images(split.dataset, content_sha256=split.sha256)  # fill the cache, warm up
    _sync(device)
    started = time.perf_counter()
    repeats = 3
    for _ in range(repeats):
        engine.images(split.dataset, content_sha256=split.sha256)
    _sync(device)
    rate = repeats * len(split) / (time.perf_counter() - started)
    sample = loaded.preprocess_eval(split.dataset[0]["image"].convert("RGB"))[None]
    return rate, forward_flops(loaded.model.float().cpu(), sample)


def data_path_rate(folder: Path, device: torch.device, batch: int, count: int = 20) -> float:
    """Images/s the unlearning data path delivers with no step (cache warm, default workers)."""
    from harness.context import SplitView
    from harness.run.budget import Budget
    from harness.training_data import DataPath
    from harness.training_data.stream import default_training_workers

    benchmark = load_local_benchmark(folder)
    loaded = load_clip(benchmark.models["compromised"].path)
    split = benchmark.split("retain_synth")

    def read() -> float:
        data = DataPath(
            workers=default_training_workers(),
            image_cache=True,
            device=device,
            scope=f"{benchmark.name}@{benchmark.revision}",
            show_progress=False,
        )
        budget = Budget(1000.0, len(split))
        view = SplitView(split, budget, loaded.preprocess_train, loaded.tokenizer, data=data)
        stream = view.batches(batch, np.random.default_rng(0))
        next(stream)  # workers started, cache built or opened
        started = time.perf_counter()
        for _ in range(count):
            next(stream)
        _sync(device)
        seconds = time.perf_counter() - started
        stream.close()  # type: ignore[attr-defined]  # a generator
        return count * batch / seconds

    read()  # fills the training image cache
    return read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ViT-B-16")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--precision", default="bf16", choices=sorted(AUTOCAST))
    parser.add_argument(
        "--batch-size", type=int, default=None, help="evaluation batch (default: auto search)"
    )
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA device here: run this on a GPU machine (or pass --device cpu)")
    register_config()
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    with tempfile.TemporaryDirectory(prefix="salmu-gpu-smoke-") as tmp:
        work = Path(tmp)
        os.environ.setdefault("SALMU_HARNESS_QUIET", "1")
        peak = matmul_peak(device, args.precision)
        folder = smoke_benchmark(args.model, work)
        options = dict(
            benchmark=str(folder),
            device=args.device,
            precision=args.precision,
            batch_size=args.batch_size,
            show_progress=False,
        )
        started = time.perf_counter()
        evaluated = evaluate_checkpoint(
            folder / "models" / "compromised", RunOptions(output_dir=work / "eval", **options)
        )
        evaluate_seconds = time.perf_counter() - started
        rate, flops = engine_throughput(folder, device, args.precision, args.batch_size)
        benchmark = load_local_benchmark(folder)
        train_batch = 128
        budget = args.steps * train_batch / len(benchmark.split("forget"))
        delivered = data_path_rate(folder, device, train_batch)
        run = run_method(
            "finetune",
            {"lr": 1e-5, "batch_size": train_batch},
            RunOptions(output_dir=work / "run", budget=budget, **options),
            load_plugins(),
        ).document
    metrics = evaluated.document["metrics"]
    steps = run["budget"]["optimizer_steps"]
    samples = run["budget"]["used_samples"]
    method_seconds = run["cost"]["method_seconds"]
    data = run["cost"]["data_path"]
    stepping = max(1e-9, method_seconds - data["cache_build_seconds"])
    rows = [
        ["device", gpu],
        ["date", datetime.date.today().isoformat()],
        ["torch", torch.__version__],
        ["model / precision", f"{args.model} / {args.precision}"],
        ["measured matmul peak", f"{peak / 1e12:.1f} TFLOP/s"],
        ["evaluate (10 metrics, both references, cold caches)", f"{evaluate_seconds:.1f} s"],
        [
            "evaluate status",
            f"{sum(m['status'] == 'ok' for m in metrics.values())}/{len(metrics)} ok",
        ],
        ["image encoding (engine, cache warm)", f"{rate:.0f} images/s"],
        ["forward FLOPs per image", f"{flops / 1e9:.2f} GFLOP"],
        ["encoding as a fraction of the matmul peak", f"{rate * flops / peak:.1%}"],
        [
            f"finetune: {steps} steps of {train_batch}",
            f"{method_seconds:.1f} s, {samples / method_seconds:.0f} samples/s",
        ],
        [
            "finetune as a fraction of the peak (3x forward FLOPs, images only)",
            f"{3 * flops * samples / method_seconds / peak:.1%}",
        ],
        ["finetune pairs/s (training cache built before)", f"{samples / stepping:.0f}"],
        ["finetune: share of step time waiting for data", f"{data['wait_seconds'] / stepping:.1%}"],
        [
            f"data path alone ({data['workers']} workers, cache warm)",
            f"{delivered:.0f} images/s",
        ],
    ]
    print(tabulate(rows, tablefmt="github"))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


if __name__ == "__main__":
    main()
