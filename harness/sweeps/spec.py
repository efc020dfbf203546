"""Sweep files: reading and validating them, and expanding them into keyed trials.

A trial is one harness run: a method at one parameter setting, one seed, one budget and one
deletion-request schedule (or none). Its key
is the sha256 of its resolved configuration (the method's defaults filled in), so the same
trial has the same key in every re-run of the sweep, and a changed setting is a new trial.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import ParameterError
from harness.plugins import Registry
from harness.run.budget import RULE as BUDGET_RULE
from harness.run.schedules import parse_schedule
from harness.storage import first_schema_error, read_mapping_file

#: the selection objectives computed from the suite's forgetting and utility metrics
SUITE_OBJECTIVES = ("hmean", "forget-first")

SWEEP_SCHEMA = "sweep.schema.json"


@dataclass(frozen=True)
class Trial:
    """One run of a sweep."""

    key: str
    method: str
    parameters: dict[str, Any]
    seed: int
    budget: float
    setting: str  # the key of (method, parameters[, schedule]): a setting's seeds share it
    schedule: str | None = None
    """The trial's deletion-request schedule (``None``: every forget persona at once)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Trial:
        return cls(**data)


@dataclass
class Sweep:
    """A validated sweep file with its defaults applied."""

    methods: dict[str, dict[str, Any]]
    name: str = "sweep"
    benchmark: str = "mini"
    benchmark_options: dict[str, Any] = field(default_factory=dict)
    metrics: list[str] | None = None
    protocol: str | dict[str, Any] = "official"
    seeds: list[int] = field(default_factory=lambda: [0])
    budgets: list[float] = field(default_factory=lambda: [5.0])
    schedules: list[str | None] = field(default_factory=lambda: [None])
    device: str = "auto"
    precision: str = "fp32"
    seed: int = 0
    resources: dict[str, float] = field(default_factory=lambda: {"cpus": 1, "gpus": 0})
    selection: dict[str, Any] = field(
        default_factory=lambda: {"objective": "hmean", "validation_fraction": 0.5}
    )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def run_settings(self) -> dict[str, Any]:
        """What every trial shares (the run options besides method, parameters, seed, budget)."""
        return {
            "benchmark": self.benchmark,
            "benchmark_options": self.benchmark_options,
            "metrics": self.metrics,
            "protocol": self.protocol,
            "device": self.device,
            "precision": self.precision,
        }


def load_sweep(path: Path) -> Sweep:
    """The sweep in ``path`` (JSON, or YAML with PyYAML), validated, with defaults applied."""
    path = Path(path)
    data = read_mapping_file(path, "sweep file")
    error = first_schema_error(SWEEP_SCHEMA, data)
    if error is not None:
        where = "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in error[0])
        raise ParameterError(
            f"sweep file {path} is invalid at {where or 'the top level'}: {error[1]}",
            "see docs/sweeps.md and schemas/sweep.schema.json",
        )
    sweep = Sweep(methods=data["methods"])
    for name in (
        "name",
        "benchmark",
        "benchmark_options",
        "metrics",
        "protocol",
        "device",
        "precision",
        "seed",
    ):
        if name in data:
            setattr(sweep, name, data[name])
    sweep.seeds = [int(s) for s in data.get("seeds", sweep.seeds)]
    sweep.budgets = [float(b) for b in data.get("budgets", sweep.budgets)]
    sweep.schedules = [_schedule_spec(s, path.parent) for s in data.get("schedules", [None])]
    sweep.resources = {**sweep.resources, **data.get("resources", {})}
    sweep.selection = {**sweep.selection, **data.get("selection", {})}
    return sweep


def _schedule_spec(spec: str | None, folder: Path) -> str | None:
    """A sweep's schedule, checked before any trial; a schedule file's path is read relative to
    the sweep file."""
    if spec is None:
        return None
    relative = folder / spec
    file_like = relative.suffix.lower() in (".json", ".yaml", ".yml") or relative.exists()
    checked = str(relative.resolve()) if file_like and not Path(spec).is_absolute() else spec
    parse_schedule(checked)
    return checked


def check_objective(sweep: Sweep, registry: Registry) -> None:
    """The selection objective must be computable from the metrics the sweep evaluates."""
    objective = sweep.selection["objective"]
    selected = [m.key for m in registry.select_metrics(sweep.metrics)]
    if objective in SUITE_OBJECTIVES:
        suite = registry.suite_for(selected)
        if suite is None:
            raise ParameterError(
                f"sweep selection objective {objective!r} needs a metric suite that names a "
                "forgetting "
                "and a utility metric, and none of the swept metrics belongs to one",
                "choose one of the swept metrics' keys as selection.objective",
            )
        needed = [suite.forgetting, suite.utility]
    else:
        needed = [objective]
    missing = [k for k in needed if k not in selected]
    if missing:
        raise ParameterError(
            f"sweep selection objective {objective!r} needs metric(s) "
            f"{', '.join(missing)}, which 'metrics' leaves out",
            "add them to 'metrics', or choose an objective among the swept metrics' keys",
        )


def expand_trials(sweep: Sweep, registry: Registry) -> list[Trial]:
    """Every trial of the sweep: settings x schedules x budgets x seeds, parameters resolved and
    checked."""
    check_objective(sweep, registry)
    trials = []
    for method_name, space in sweep.methods.items():
        method = registry.method(method_name)
        for parameters in settings_of(space, f"{sweep.seed}:{method_name}"):
            resolved = method.resolve_parameters(parameters)
            described = {"method": method_name, "version": method.version, "parameters": resolved}
            for schedule in sweep.schedules:
                # keys name a schedule only when there is one: one-shot sweeps keep their keys
                scheduled = (  # a schedule file's requests, not its path, make the key
                    {"schedule": parse_schedule(schedule).to_json()} if schedule is not None else {}
                )
                setting = _digest({**described, **scheduled})
                for budget in sweep.budgets:
                    for seed in sweep.seeds:
                        material = {
                            **described,
                            "seed": seed,
                            "budget": budget,
                            "budget_rule": BUDGET_RULE,  # a changed rule is a new trial
                            **sweep.run_settings(),
                            **scheduled,
                        }
                        trials.append(
                            Trial(
                                _digest(material),
                                method_name,
                                resolved,
                                seed,
                                budget,
                                setting,
                                schedule,
                            )
                        )
    unique = {trial.key: trial for trial in trials}  # repeated grid values, equal integer draws
    return list(unique.values())


def settings_of(space: dict[str, Any], seed: str) -> list[dict[str, Any]]:
    """The parameter settings of one method's space: the grid's product, ``samples`` random
    draws per grid point for ``random`` dimensions, fixed values everywhere.

    Each draw has its own generator, seeded by ``seed``, the grid point, the sample index and
    the parameter, so adding a grid value or a sample never changes the settings drawn before.
    """
    parameters = space.get("parameters", {})
    grid = {k: v["grid"] for k, v in parameters.items() if isinstance(v, dict) and "grid" in v}
    drawn = {k: v["random"] for k, v in parameters.items() if isinstance(v, dict) and "random" in v}
    fixed = {k: v for k, v in parameters.items() if k not in grid and k not in drawn}
    samples = int(space.get("samples", 1)) if drawn else 1
    out = []
    for point in itertools.product(*grid.values()):
        for sample in range(samples):
            setting = {**fixed, **dict(zip(grid, point, strict=True))}
            where = json.dumps([seed, dict(zip(grid, point, strict=True)), sample], sort_keys=True)
            setting.update(
                {k: _draw(spec, random.Random(f"{where}:{k}")) for k, spec in drawn.items()}
            )
            out.append(setting)
    return out


def _draw(spec: dict[str, Any], rng: random.Random) -> float | int:
    low, high = float(spec["low"]), float(spec["high"])
    if spec.get("log"):
        if low <= 0 or high <= 0:
            raise ParameterError(f"a log-uniform range needs positive bounds, not [{low}, {high}]")
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    else:
        value = rng.uniform(low, high)
    return round(value) if spec.get("integer") else float(f"{value:.6g}")


def _digest(material: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
