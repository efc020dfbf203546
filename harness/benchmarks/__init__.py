"""Benchmarks by name: ``mini`` (SALMU-mini, built locally), ``salmubench`` (the real one), or
the path of a benchmark folder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness.benchmarks.base import Benchmark
from harness.errors import UnknownNameError


def _load_mini(options: Mapping[str, Any]) -> Benchmark:
    from harness.benchmarks.local import load_local_benchmark
    from harness.benchmarks.mini.build import ensure_mini

    return load_local_benchmark(ensure_mini(options))


def _load_salmubench(options: Mapping[str, Any]) -> Benchmark:
    from harness.benchmarks.salmubench import load_salmubench

    return load_salmubench(options)


BENCHMARKS: dict[str, Callable[[Mapping[str, Any]], Benchmark]] = {
    "mini": _load_mini,
    "salmubench": _load_salmubench,
}
DEFAULT_BENCHMARK = "mini"


def load_benchmark(spec: str, options: Mapping[str, Any] | None = None) -> Benchmark:
    """The benchmark named ``spec`` (a name in :data:`BENCHMARKS` or a folder path)."""
    if spec in BENCHMARKS:
        return BENCHMARKS[spec](options or {})
    path = Path(spec).expanduser()
    if path.exists() or "/" in spec or spec.startswith("."):
        from harness.benchmarks.local import load_local_benchmark

        return load_local_benchmark(path)
    raise UnknownNameError("benchmark", spec, BENCHMARKS)


__all__ = ["BENCHMARKS", "DEFAULT_BENCHMARK", "Benchmark", "load_benchmark"]
