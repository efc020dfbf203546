"""The plugin author kit's conformance run: is a method a well-behaved SALMU-harness citizen?

On the CPU, on the test-scale SALMU-mini (built once, cached), a method must:

- return a model of the same architecture, with finite weights;
- leave the Compromised model the harness holds untouched (in memory and on disk);
- stay within its compute budget;
- never read the holdout splits or the Clean model;
- give bit-identical weights for the same seed;
- produce an artefact that saves and reloads with the same embeddings.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from harness.benchmarks.base import Benchmark
from harness.budget import Budget
from harness.errors import HarnessError
from harness.models import file_sha256, load_clip, parameter_shapes, save_local_dir
from harness.plugins import Registry, load_plugins
from harness.retain_isolation import with_method_retain
from harness.seeding import seed_everything

FORBIDDEN_SPLITS = ("holdout_association", "holdout_identity")


@dataclass(frozen=True)
class Check:
    """One conformance check and its outcome."""

    name: str
    passed: bool
    detail: str


class ForbiddenAccessError(HarnessError):
    """The method touched data it must never read."""


class _Tripwire:
    def __init__(self, what: str) -> None:
        self._what = what

    def __getattr__(self, name: str) -> Any:
        raise ForbiddenAccessError(f"the method read {self._what}, which methods must never read")

    def __len__(self) -> int:
        raise ForbiddenAccessError(f"the method read {self._what}, which methods must never read")


@contextlib.contextmanager
def _guarded(benchmark: Benchmark) -> Iterator[list[str]]:
    """Trip on any access to holdout splits or on loading the Clean model during the method."""
    import harness.benchmarks as benchmarks
    import harness.models as models

    touched: list[str] = []
    saved_splits = {name: benchmark.splits[name].dataset for name in FORBIDDEN_SPLITS}
    clean_path = Path(benchmark.models["clean"].path).resolve()
    original_load, original_benchmark = models.load_clip, benchmarks.load_benchmark

    def guarded_load(source: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(str(source).removeprefix("local-dir:")).resolve() == clean_path:
            touched.append("the Clean model")
            raise ForbiddenAccessError("the method loaded the Clean model")
        return original_load(source, *args, **kwargs)

    def guarded_benchmark(*args: Any, **kwargs: Any) -> Any:
        touched.append("the benchmark loader")
        raise ForbiddenAccessError("the method loaded the benchmark itself")

    for name in FORBIDDEN_SPLITS:
        benchmark.splits[name].dataset = _Tripwire(f"split {name!r}")  # type: ignore[assignment]
    models.load_clip, benchmarks.load_benchmark = guarded_load, guarded_benchmark  # type: ignore[assignment]
    try:
        yield touched
    finally:
        models.load_clip, benchmarks.load_benchmark = original_load, original_benchmark
        for name, dataset in saved_splits.items():
            benchmark.splits[name].dataset = dataset


def check_method(
    name: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    registry: Registry | None = None,
    budget: float = 2.0,
    seed: int = 0,
) -> list[Check]:
    """Run the conformance checks for method ``name``; every check is reported, none raises."""
    from harness.benchmarks.local import load_local_benchmark
    from harness.benchmarks.mini.build import build_mini
    from harness.pipeline import RunOptions, checked_model, make_run_context, model_args

    registry = registry or load_plugins()
    method = registry.method(name)
    resolved = method.resolve_parameters(parameters)
    options = RunOptions(seed=seed, budget=budget, show_progress=False, device="cpu")
    benchmark = with_method_retain(
        load_local_benchmark(build_mini("test", 0, show_progress=False)),
        registry.protocol(options.protocol),
        options.evaluation.seed,
    )
    compromised_path, architecture = model_args(benchmark, "compromised")
    weights = load_clip(compromised_path, architecture)
    held = {k: v.clone() for k, v in weights.model.state_dict().items()}
    sha_before = weights.sha256
    shapes = parameter_shapes(weights.model)
    checks: list[Check] = []
    runs: list[torch.nn.Module] = []
    budgets: list[Budget] = []
    for _ in range(2):
        seed_everything(seed)
        student = load_clip(compromised_path, architecture)
        run_budget = Budget(budget, len(benchmark.split("forget")))
        context = make_run_context(student, benchmark, run_budget, torch.device("cpu"), options)
        with _guarded(benchmark) as touched:
            try:
                returned = method.unlearn(context, dict(resolved))
            except ForbiddenAccessError as exc:
                return [Check("isolation", False, exc.message)]
            except HarnessError as exc:
                return [Check("runs", False, str(exc))]
        budgets.append(run_budget)
        try:
            runs.append(checked_model(returned, shapes))
        except HarnessError as exc:
            return [Check("architecture", False, exc.message)]
    checks.append(Check("architecture", True, "same parameter names and shapes, finite weights"))
    unchanged = all(torch.equal(held[k], v) for k, v in weights.model.state_dict().items())
    unchanged &= file_sha256(weights.weights_path) == sha_before
    checks.append(
        Check(
            "compromised untouched",
            unchanged,
            "the harness's Compromised weights are bit-identical after the method"
            if unchanged
            else "the Compromised weights changed during the method",
        )
    )
    used = budgets[0]
    checks.append(
        Check(
            "budget",
            used.used <= used.limit and used.used > 0,
            f"read {used.used} of {used.limit} samples "
            f"({dict(used.reads)}), {used.optimizer_steps} optimizer steps",
        )
    )
    checks.append(
        Check("isolation", not touched, "never read the holdout splits or the Clean model")
    )
    first, second = (r.state_dict() for r in runs)
    same = all(torch.equal(first[k], second[k]) for k in first)
    checks.append(
        Check(
            "deterministic",
            same,
            "the same seed gave identical weights"
            if same
            else "two runs with the same seed gave different weights",
        )
    )
    checks.append(_reload_check(runs[0], weights.config))
    return checks


def _reload_check(model: torch.nn.Module, config: dict[str, Any]) -> Check:
    with tempfile.TemporaryDirectory() as folder:
        path = save_local_dir(model.cpu().eval(), config, Path(folder) / "model")
        reloaded = load_clip(path).model
        images = torch.randn(2, 3, *_image_size(model), generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            same = torch.equal(model.encode_image(images), reloaded.encode_image(images))
    return Check(
        "reload",
        same,
        "saved as local-dir: and reloaded with identical embeddings"
        if same
        else "the reloaded model gives different embeddings",
    )


def _image_size(model: torch.nn.Module) -> tuple[int, int]:
    size = model.visual.image_size
    return (size, size) if isinstance(size, int) else tuple(size)  # type: ignore[return-value]
