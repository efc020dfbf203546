"""Benchmarks: what a loaded benchmark is, reading one from hub-layout files, and finding one by
name among those plugins register (``mini`` and ``salmubench`` are built-in plugins), or by the
path of a benchmark folder."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.benchmarks.loader import BenchmarkLoader

if TYPE_CHECKING:
    from harness.benchmarks.base import Benchmark
    from harness.plugins import Registry

DEFAULT_BENCHMARK = "mini"


def load_benchmark(
    spec: str, options: Mapping[str, Any] | None = None, registry: Registry | None = None
) -> Benchmark:
    """The benchmark registered as ``spec``, or the benchmark folder at the path ``spec``."""
    if registry is None:
        from harness.plugins import load_plugins

        registry = load_plugins()
    if spec in registry.benchmarks:
        return registry.benchmark(spec)(options)
    path = Path(spec).expanduser()
    if path.exists() or "/" in spec or spec.startswith("."):
        from harness.benchmarks.local import load_local_benchmark

        if options:
            raise_no_options(spec, options)
        return load_local_benchmark(path)
    return registry.benchmark(spec)(options)  # the did-you-mean error


def raise_no_options(spec: str, options: Mapping[str, Any]) -> None:
    from harness.errors import BenchmarkError

    raise BenchmarkError(
        f"benchmark folder {spec} takes no options (got {', '.join(sorted(options))})",
        "options belong to registered benchmarks, e.g. --benchmark mini --benchmark-option "
        "scale=test",
    )


__all__ = ["DEFAULT_BENCHMARK", "BenchmarkLoader", "load_benchmark"]
