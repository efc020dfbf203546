"""The SALMUBench suite as a built-in plugin: its ten metrics (keys 1.1-2.5), the opt-in
robustness metrics (3.1-3.4: relearning, quantization, membership inference), its evaluation
protocols, its suite declaration (diagnosis, headline keys) and the ``salmubench`` benchmark,
registered through the same hooks as any third-party plugin.

Every choice the public record leaves open is a field of the evaluation protocol
(``ctx.protocol``); docs/comparing-with-the-paper.md explains each. Efficacy metrics (1.x) aim
at the Clean model, utility metrics (2.x) at Compromised.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.benchmarks.loader import BenchmarkLoader
from harness.builtin.salmubench.metrics import METRICS
from harness.builtin.salmubench.protocols import builtin_protocols
from harness.builtin.salmubench.robustness import ROBUSTNESS_METRICS
from harness.builtin.salmubench.suite import SUITE
from harness.hookspecs import hookimpl
from harness.metric import Metric, MetricSuite
from harness.protocol import EvaluationProtocol


@hookimpl
def register_metrics(register: Callable[[Metric], None]) -> None:
    for metric in (*METRICS, *ROBUSTNESS_METRICS):
        register(metric)


@hookimpl
def register_protocols(register: Callable[[EvaluationProtocol], None]) -> None:
    for protocol in builtin_protocols():
        register(protocol)


@hookimpl
def register_suites(register: Callable[[MetricSuite], None]) -> None:
    register(SUITE)


@hookimpl
def register_benchmarks(register: Callable[[BenchmarkLoader], None]) -> None:
    from harness.benchmarks.salmubench import OPTION_HELP, load_salmubench

    register(
        BenchmarkLoader(
            name="salmubench",
            description="SALMUBench: the released evaluation dataset and model pair (gated on "
            "the Hugging Face Hub; every artefact can be a local path).",
            load=load_salmubench,
            options=OPTION_HELP,
        )
    )
