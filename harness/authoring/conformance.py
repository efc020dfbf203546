"""The plugin author kit's conformance run: is a method a well-behaved SALMU-harness citizen?

On the CPU, on the test-scale SALMU-mini (built once, cached), a method must:

- return a model of the same architecture, with finite weights, that differs from the
  Compromised model (a method that changes nothing is a no-op);
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
from typing import Any, cast

import torch

from harness.benchmarks.base import Benchmark
from harness.errors import BudgetExceededError, HarnessError
from harness.plugins import Registry, load_plugins
from harness.run.budget import Budget
from harness.run.kernel import model_args, unlearn_once
from harness.run.models import load_clip, save_local_dir
from harness.run.plan import load_for, prepare
from harness.run.settings import RunOptions
from harness.storage import file_sha256

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
def _guarded(benchmark: Benchmark, touched: list[str]) -> Iterator[None]:
    """Trip on any access to holdout splits or on loading the Clean model during the method
    (what was touched is added to ``touched``)."""
    import harness
    import harness.benchmarks as benchmarks
    import harness.run.models as models

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

    # ``harness.load_benchmark`` is bound lazily, on first use: it is guarded whether or not it
    # was bound before, and unbound again afterwards if it was not
    public = vars(harness)
    public_benchmark = public.get("load_benchmark")
    for name in FORBIDDEN_SPLITS:
        setattr(benchmark.splits[name], "dataset", _Tripwire(f"split {name!r}"))  # noqa: B010
    setattr(models, "load_clip", guarded_load)  # noqa: B010
    setattr(benchmarks, "load_benchmark", guarded_benchmark)  # noqa: B010
    public["load_benchmark"] = guarded_benchmark
    try:
        yield
    finally:
        models.load_clip, benchmarks.load_benchmark = original_load, original_benchmark
        if public_benchmark is None:
            public.pop("load_benchmark", None)
        else:
            public["load_benchmark"] = public_benchmark
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
    registry = registry or load_plugins()
    method = registry.method(name)
    resolved = method.resolve_parameters(parameters)
    options = RunOptions(
        benchmark="mini",
        benchmark_options={"scale": "test"},
        seed=seed,
        budget=budget,
        show_progress=False,
        device="cpu",
    )
    plan = prepare(options, registry, writes=False)  # nothing is written
    benchmark = load_for(options, plan, registry)
    compromised_path, architecture = model_args(benchmark, "compromised")
    weights = load_clip(compromised_path, architecture)
    held = {k: v.clone() for k, v in weights.model.state_dict().items()}
    sha_before = weights.sha256
    checks: list[Check] = []
    runs: list[torch.nn.Module] = []
    budgets: list[Budget] = []
    touched: list[str] = []
    changed: list[bool] = []
    untouched: list[bool] = []
    for _ in range(2):
        run_budget = Budget(budget, len(benchmark.split("forget")))
        try:
            unlearned = unlearn_once(
                method,
                resolved,
                benchmark,
                options,
                torch.device("cpu"),
                run_budget,
                guard=lambda: _guarded(benchmark, touched),
            )
        except ForbiddenAccessError as exc:
            return [Check("isolation", False, exc.message)]
        except BudgetExceededError as exc:
            return [Check("budget", False, exc.message)]
        except HarnessError as exc:
            return [Check("runs", False, str(exc))]
        budgets.append(run_budget)
        try:
            runs.append(unlearned.checked())
        except HarnessError as exc:
            return [Check("architecture", False, exc.message)]
        changed.append(unlearned.weights_changed)
        # after each run: a second run could undo what the first did to the file
        untouched.append(
            all(torch.equal(held[k], v) for k, v in weights.model.state_dict().items())
            and file_sha256(weights.weights_path) == sha_before
        )
    checks.append(Check("architecture", True, "same parameter names and shapes, finite weights"))
    checks.append(
        Check(
            "changes the model",
            changed[0],
            "the returned weights differ from the Compromised ones"
            if changed[0]
            else "the method returned the Compromised weights unchanged: a no-op",
        )
    )
    unchanged = all(untouched)
    checks.append(
        Check(
            "compromised untouched",
            unchanged,
            "the harness's Compromised weights are bit-identical after the method"
            if unchanged
            else "the Compromised weights (in memory or in their checkpoint file) changed "
            "during the method: a method must only change ctx.model, its own copy",
        )
    )
    used = budgets[0]
    checks.append(
        Check(
            "budget",
            used.used > 0 and all(n <= used.limit_of(split) for split, n in used.reads.items()),
            f"read {used.forget_passes:g} of {used.multiple:g} forget passes; samples read "
            f"{dict(used.reads)} (limits: forget {used.limit}, retain {used.retain_limit}), "
            f"{used.optimizer_steps} optimizer steps",
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
        reloaded: Any = load_clip(path).model
        images = torch.randn(2, 3, *_image_size(model), generator=torch.Generator().manual_seed(0))
        clip: Any = model
        with torch.no_grad():
            same = torch.equal(clip.encode_image(images), reloaded.encode_image(images))
    return Check(
        "reload",
        same,
        "saved as local-dir: and reloaded with identical embeddings"
        if same
        else "the reloaded model gives different embeddings",
    )


def _image_size(model: torch.nn.Module) -> tuple[int, int]:
    size = cast(Any, model).visual.image_size
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
