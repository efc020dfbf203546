"""The result sections that describe models and what a run cost (shared by ``run`` and
``evaluate``)."""

from __future__ import annotations

import resource
import time
from typing import Any

import torch

from harness.benchmarks.base import Benchmark
from harness.run.budget import Budget
from harness.run.models import WEIGHTS_IN_DIR, LoadedModel
from harness.storage import file_sha256


def cost_section(
    clock: float,
    budget: Budget | None,
    method_s: float,
    evaluation_s: float,
    data_path: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The result's ``cost``: wall time since ``clock``, method and evaluation time, memory,
    and (for a run) the unlearning data path's record."""
    cost: dict[str, Any] = {
        "wall_seconds": round(time.perf_counter() - clock, 3),
        "method_seconds": round(method_s, 3),
        "evaluation_seconds": round(evaluation_s, 3),
        "peak_memory_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    if budget is not None:
        cost["optimizer_steps"] = budget.optimizer_steps
        cost["samples_read"] = dict(sorted(budget.reads.items()))
    if data_path is not None:
        cost["data_path"] = data_path
    if torch.cuda.is_available():
        cost["peak_gpu_memory_bytes"] = int(torch.cuda.max_memory_allocated())
    return cost


def architecture_of(benchmark: Benchmark) -> str | None:
    """The architecture a bare state dict is read with: the Compromised model's folder."""
    path = benchmark.models["compromised"].path
    return f"local-dir:{path}" if path.is_dir() else None


def reference_hashes(benchmark: Benchmark) -> dict[str, str]:
    """The sha256 of each reference model's weights file, by role."""
    hashes: dict[str, str] = {}
    for role, source in benchmark.models.items():
        path = source.path
        if path.is_dir():
            path = next(path / n for n in WEIGHTS_IN_DIR if (path / n).is_file())
        hashes[role] = file_sha256(path)
    return hashes


def model_record(loaded: LoadedModel, model_id: str) -> dict[str, Any]:
    """The ``models.evaluated`` record of a loaded model."""
    return {
        "id": model_id,
        "revision": None,
        "path": str(loaded.weights_path),
        "architecture": loaded.architecture,
        "sha256": loaded.sha256,
    }
