"""The hooks a salmu-harness plugin can implement.

A plugin is a module exposed through the ``salmu_harness`` entry-point group. It implements one
or more of these hooks with ``@harness.hookimpl`` and calls ``register(...)`` once per thing it
provides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from harness.benchmarks.loader import BenchmarkLoader
    from harness.method import Method
    from harness.metric import Metric, MetricSuite
    from harness.protocol import EvaluationProtocol
    from harness.tracking.reporter import Reporter

hookspec = pluggy.HookspecMarker("salmu_harness")
hookimpl = pluggy.HookimplMarker("salmu_harness")


@hookspec
def register_methods(register: Callable[[Method], None]) -> None:
    """Register unlearning methods by calling ``register(harness.Method(...))`` for each."""


@hookspec
def register_metrics(register: Callable[[Metric], None]) -> None:
    """Register evaluation metrics by calling ``register(harness.Metric(...))`` for each."""


@hookspec
def register_protocols(register: Callable[[EvaluationProtocol], None]) -> None:
    """Register evaluation protocols by calling ``register(EvaluationProtocol(...))`` for each."""


@hookspec
def register_benchmarks(register: Callable[[BenchmarkLoader], None]) -> None:
    """Register benchmarks by calling ``register(harness.BenchmarkLoader(...))`` for each."""


@hookspec
def register_suites(register: Callable[[MetricSuite], None]) -> None:
    """Register metric suites by calling ``register(harness.MetricSuite(...))`` for each."""


@hookspec
def register_reporters(register: Callable[[Reporter], None]) -> None:
    """Register experiment trackers by calling ``register(harness.Reporter(...))`` for each."""
