"""What a run or an evaluation resolves before it loads any model or data.

Every mistake a user can make in the settings (an unknown metric, protocol or diagnosis rule, a
bad device, precision, batch size or seed) is caught here, before anything slow happens.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch

from harness.benchmarks import load_benchmark
from harness.benchmarks.base import Benchmark
from harness.errors import ParameterError
from harness.evaluation.evaluator import EngineOptions
from harness.evaluation.settings import EvaluationSettings
from harness.metric import Metric, MetricSuite
from harness.plugins import Registry
from harness.protocol import EvaluationProtocol
from harness.run.devices import check_precision, resolve_device
from harness.run.isolation import with_method_retain
from harness.run.settings import RunOptions
from harness.storage import writable_folder
from harness.tracking.reporter import Reporter

#: seeds a protocol may draw from (``RandomState`` takes 32 bits; spread draws add up to 1000)
MAX_EVALUATION_SEED = 2**32 - 1001


@dataclass(frozen=True)
class Plan:
    """The resolved device, metrics, evaluation settings (protocol included), metric suite and
    diagnosis thresholds of a run."""

    device: torch.device
    metrics: list[Metric]
    settings: EvaluationSettings
    protocol: EvaluationProtocol
    suite: MetricSuite | None
    rules: dict[str, float]
    suites: list[MetricSuite]
    reporters: list[Reporter] = field(default_factory=list)

    def engine_options(self, options: RunOptions) -> EngineOptions:
        """How this run encodes models."""
        return EngineOptions(
            device=self.device,
            precision=options.precision,
            batch_size=options.batch_size,
            num_workers=options.num_workers,
            show_progress=options.show_progress,
            compile=options.compile,
        )


def prepare(options: RunOptions, registry: Registry, *, writes: bool = True) -> Plan:
    """Resolve and check the settings of ``options``; nothing is loaded yet. ``writes``: the
    output folder is checked (and created) for a command that writes results there."""
    device = resolve_device(options.device)
    check_precision(options.precision, device)
    metrics = registry.select_metrics(options.metrics)
    if not metrics:
        raise ParameterError(
            "no metric is installed or selected",
            "check `salmu-harness metrics` and SALMU_HARNESS_PLUGINS",
        )
    if options.batch_size is not None and options.batch_size < 1:
        raise ParameterError(f"batch size {options.batch_size} must be at least 1")
    if writes:
        writable_folder(options.output_dir)
    protocol = registry.protocol(options.protocol)
    seed = options.evaluation.seed
    if not 0 <= seed <= MAX_EVALUATION_SEED:
        raise ParameterError(
            f"evaluation seed {seed} is out of range", f"use a seed from 0 to {MAX_EVALUATION_SEED}"
        )
    suite = registry.suite_for(m.key for m in metrics)
    return Plan(
        device=device,
        metrics=metrics,
        settings=replace(options.evaluation, protocol=protocol),
        protocol=protocol,
        suite=suite,
        rules=diagnosis_rules(suite, options.rules),
        suites=[s for s, _ in registry.suites.values()],
        reporters=[registry.reporter(name) for name in options.report_to],
    )


def diagnosis_rules(suite: MetricSuite | None, given: dict[str, float]) -> dict[str, float]:
    """The suite's diagnosis thresholds overridden by ``given`` (names checked)."""
    if suite is None or suite.diagnose is None:
        if given:
            raise ParameterError(
                f"there is no diagnosis rule {next(iter(given))!r}: no installed metric suite "
                "diagnoses the selected metrics"
            )
        return {}
    known = {**suite.rules, **suite.schedule_rules}
    for key in given:
        if key not in known:
            raise ParameterError(
                f"there is no diagnosis rule {key!r}",
                f"the rules of suite {suite.name} are: {', '.join(known)}",
            )
    return {**known, **given}


def load_for(options: RunOptions, plan: Plan, registry: Registry) -> Benchmark:
    """The benchmark, with the retain split methods may read under this plan's settings."""
    benchmark = load_benchmark(options.benchmark, options.benchmark_options, registry)
    return with_method_retain(benchmark, plan.suites, plan.protocol, plan.settings.seed)


def diagnosis_of(plan: Plan, metrics_section: dict[str, Any]) -> dict[str, Any] | None:
    """The result's diagnosis by the plan's suite, when it has one."""
    if plan.suite is None or plan.suite.diagnose is None:
        return None
    rules = {k: v for k, v in plan.rules.items() if k not in plan.suite.schedule_rules}
    return plan.suite.diagnose(metrics_section, rules)


def schedule_diagnosis_of(plan: Plan, summary: dict[str, Any]) -> dict[str, Any] | None:
    """A schedule result's diagnosis of its sequence by the plan's suite, when it has one."""
    if plan.suite is None or plan.suite.diagnose_schedule is None:
        return None
    rules = {k: v for k, v in plan.rules.items() if k in plan.suite.schedule_rules}
    return plan.suite.diagnose_schedule(summary, rules)
