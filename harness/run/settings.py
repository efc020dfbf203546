"""The one settings type of a run or an evaluation, and its configuration-file form.

``RunOptions`` is what the CLI, config files, sweeps and bundles all build, and what a
result records under ``config`` (``RunOptions.to_config``): a result's ``config`` read back
with ``RunOptions.from_config`` runs the same thing again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.benchmarks import DEFAULT_BENCHMARK
from harness.errors import ParameterError, close_matches
from harness.evaluation.settings import EvaluationSettings
from harness.protocol import DEFAULT_PROTOCOL, EvaluationProtocol
from harness.run.budget import DEFAULT_BUDGET

#: the keys of a configuration mapping (a ``--config`` file, a result's ``config``)
CONFIG_KEYS = (
    "method",
    "parameters",
    "benchmark",
    "benchmark_options",
    "metrics",
    "protocol",
    "device",
    "precision",
    "seed",
    "budget",
    "batch_size",
    "workers",
    "output",
    "compile",
    "image_cache",
    "evaluation",
    "rules",
    "schedule",
)


@dataclass
class RunOptions:
    """Everything about a run or evaluation besides the method and its parameters."""

    benchmark: str = DEFAULT_BENCHMARK
    """A registered benchmark name (``mini``, ``salmubench``) or a folder (``--benchmark``)."""
    benchmark_options: dict[str, Any] = field(default_factory=dict)
    """Options of the benchmark loader (``--benchmark-option KEY=VALUE``), e.g. ``scale=test``."""
    metrics: Sequence[str] | None = None
    """Metric keys to compute (``--metrics``); ``None``: every installed metric."""
    protocol: str | Mapping[str, Any] = DEFAULT_PROTOCOL
    """Evaluation protocol: a registered name, the path of a protocol file, or its document."""
    device: str = "auto"
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N``."""
    precision: str = "fp32"
    """``fp32``, ``bf16`` or ``fp16`` (the two latter: AMP on a GPU)."""
    seed: int = 0
    """The run seed (the method's RNGs; the evaluation has its own seed in ``evaluation``)."""
    budget: float = DEFAULT_BUDGET
    """Samples a method may read, in passes over the forget split (``--budget``)."""
    output_dir: Path = Path("salmu-results")
    """The folder under which each run gets its own folder (``--output``)."""
    batch_size: int | None = None
    """Evaluation batch size; ``None``: 256 on a CPU, the largest that fits on a GPU."""
    num_workers: int | None = None
    """DataLoader workers decoding images and preparing a method's batches ahead (per split
    stream); ``None``: one per core, at most 8 (none for batches when training on a CPU)."""
    compile: bool = False
    """``torch.compile`` the model for training and evaluation (``--compile``)."""
    image_cache: bool = True
    """Reuse preprocessed evaluation and training images across runs (``--no-image-cache``
    turns both off: methods then get the exact per-image pixels of ``preprocess_train``)."""
    evaluation: EvaluationSettings = field(default_factory=EvaluationSettings)
    """Evaluation seed and bootstrap settings (the ``evaluation`` key of a ``--config`` file)."""
    rules: dict[str, float] = field(default_factory=dict)
    """Diagnosis thresholds overriding the metric suite's defaults (``--rule KEY=VALUE``)."""
    show_progress: bool = True
    """Show progress bars (``--quiet`` turns them off)."""
    run_id: str | None = None
    """The run folder's name; ``None``: ``METHOD-YYYYMMDD-HHMMSS-RANDOM``."""
    references: dict[str, dict[str, Any]] | None = None
    """Reference records computed elsewhere (a sweep's driver), by reference cache key."""
    schedule: str | None = None
    """A deletion-request schedule (``--schedule``): ``scaled-F``, ``sequential-K`` or a
    schedule file; ``None``: every forget persona in one request, as SALMUBench asks."""
    report_to: tuple[str, ...] = ()
    """Reporters (experiment trackers) that follow the run (``--report-to mlflow,wandb``);
    they never change a number, so results do not record them."""

    def replace(self, **changes: Any) -> RunOptions:
        """A copy with ``changes``."""
        return replace(self, **changes)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], what: str = "config") -> RunOptions:
        """Options from a configuration mapping (unknown keys and bad values are errors that
        name them; ``method`` and ``parameters`` are the caller's to read)."""
        unknown = sorted(set(config) - set(CONFIG_KEYS))
        if unknown:
            close = close_matches(unknown[0], CONFIG_KEYS)
            raise ParameterError(
                f"{what} has an unknown setting {unknown[0]!r}"
                + (f"; did you mean {close[0]!r}?" if close else ""),
                f"known settings: {', '.join(CONFIG_KEYS)}",
            )
        defaults = cls()
        get = config.get
        return cls(
            benchmark=str(get("benchmark") or defaults.benchmark),
            benchmark_options=_mapping(get("benchmark_options"), "benchmark_options", what),
            metrics=_metric_list(get("metrics")),
            protocol=get("protocol") or defaults.protocol,
            device=str(get("device") or defaults.device),
            precision=str(get("precision") or defaults.precision),
            seed=_number(get("seed"), int, defaults.seed, "seed", what),
            budget=_number(get("budget"), float, defaults.budget, "budget", what),
            output_dir=Path(get("output") or defaults.output_dir),
            batch_size=_batch_size(get("batch_size")),
            num_workers=_number(get("workers"), int, None, "workers", what),
            compile=bool(get("compile") or False),
            image_cache=bool(get("image_cache", True)),
            evaluation=_evaluation(get("evaluation"), what),
            rules=rules_from(get("rules")),
            schedule=_schedule(get("schedule"), what),
        )

    def to_config(
        self,
        method: str | None,
        parameters: Mapping[str, Any] | None,
        protocol: EvaluationProtocol,
    ) -> dict[str, Any]:
        """The configuration mapping of this run (what a result records under ``config``)."""
        config = {
            "method": method,
            "parameters": dict(parameters) if parameters is not None else None,
            # by name when chosen by name; a protocol from a file or a mapping is recorded whole
            "protocol": protocol.name if self.protocol == protocol.name else protocol.to_json(),
            "benchmark": self.benchmark,
            "benchmark_options": {k: _plain(v) for k, v in self.benchmark_options.items()},
            "metrics": list(self.metrics) if self.metrics else None,
            "device": self.device,
            "precision": self.precision,
            "seed": self.seed,
            "budget": self.budget if method else None,
            "batch_size": self.batch_size,
            "workers": self.num_workers,
            "compile": self.compile,
            "image_cache": self.image_cache,
            "evaluation": {
                "seed": self.evaluation.seed,
                "bootstrap": self.evaluation.bootstrap.to_json(),
            },
            "rules": dict(self.rules),
        }
        if self.schedule is not None:  # recorded only when given: plain runs keep their keys
            config["schedule"] = self.schedule
        return config


def rules_from(rules: Any) -> dict[str, float]:
    """Diagnosis thresholds from ``KEY=VALUE`` strings or a mapping (non-negative numbers; the
    metric suite checks the names)."""
    if not rules:
        return {}
    if not isinstance(rules, Mapping):
        rules = parse_assignments(rules, "--rule")
    for key, value in rules.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value < 0:
            raise ParameterError(
                f"diagnosis rule {key}={value!r} must be a non-negative number",
                "e.g. --rule genknow_drop=0.03",
            )
    return dict(rules)


def parse_assignments(items: Iterable[str], what: str) -> dict[str, Any]:
    """``key=value`` strings to a dict; values are parsed as JSON when they can be."""
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"{what} {item!r} is not of the form key=value")
        try:
            parsed[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            parsed[key.strip()] = raw
    return parsed


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _mapping(value: Any, name: str, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ParameterError(f"{what} setting {name!r} must be a mapping, not {value!r}")
    return dict(value)


def _metric_list(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [m.strip() for m in value.split(",") if m.strip()]
    return list(value) if value else None


def _number(value: Any, kind: type, default: Any, name: str, what: str) -> Any:
    if value is None:
        return default
    try:
        number = kind(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{what} setting {name!r} = {value!r} is not a number") from exc
    if isinstance(number, float) and not math.isfinite(number):
        raise ParameterError(f"{what} setting {name!r} = {value!r} is not finite")
    return number


def _schedule(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ParameterError(
            f"{what} setting 'schedule' = {value!r} is not a schedule",
            "e.g. scaled-0.25, sequential-4 or the path of a schedule file",
        )
    return value


def _batch_size(value: Any) -> int | None:
    if value in (None, "auto"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"batch size {value!r} is not a number", "give a positive integer or 'auto'"
        ) from exc


def _evaluation(recorded: Any, what: str) -> EvaluationSettings:
    if not recorded:
        return EvaluationSettings()
    try:
        return EvaluationSettings.from_json({k: v for k, v in recorded.items() if k != "protocol"})
    except (KeyError, TypeError, AttributeError) as exc:
        raise ParameterError(
            f"{what} setting 'evaluation' is malformed ({exc!r})",
            'expected {"seed": INT, "bootstrap": {"seed": INT, "resamples": INT, "level": FLOAT}}',
        ) from exc
