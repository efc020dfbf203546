"""SALMU-mini, the offline CPU miniature of SALMUBench, as a built-in benchmark plugin.

It is generated and its model pair trained on first use (cached afterwards), and registered as
the ``mini`` benchmark through the same ``register_benchmarks`` hook a third party would use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from harness.benchmarks.base import Benchmark
from harness.benchmarks.loader import BenchmarkLoader
from harness.hookspecs import hookimpl


def load_mini(options: Mapping[str, Any]) -> Benchmark:
    """SALMU-mini at the requested scale and seed, built on first use."""
    from harness.benchmarks.local import load_local_benchmark
    from harness.builtin.mini.build import ensure_mini

    return load_local_benchmark(ensure_mini(**options))  # options: checked by MINI's loader


MINI = BenchmarkLoader(
    name="mini",
    description="SALMU-mini: the offline CPU miniature of SALMUBench (built on first use).",
    load=load_mini,
    options={
        "scale": "default (the benchmark) or test (for unit tests)",
        "seed": "generator and training seed (default 0)",
        "force": "true: rebuild even if the cache holds this build",
    },
)


@hookimpl
def register_benchmarks(register: Callable[[BenchmarkLoader], None]) -> None:
    register(MINI)
