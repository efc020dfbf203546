"""The declaration of a benchmark that a plugin registers: its name, options and loader."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.errors import BenchmarkError, PluginError

if TYPE_CHECKING:
    from harness.benchmarks.base import Benchmark


@dataclass(frozen=True)
class BenchmarkLoader:
    """A benchmark by name. ``load(options)`` returns the ``Benchmark``; ``options`` maps
    each option a user may pass (``--benchmark-option KEY=VALUE``) to its help text."""

    name: str
    description: str
    load: Callable[[Mapping[str, Any]], Benchmark]
    options: Mapping[str, str] = field(default_factory=dict)
    plugin_api: str = ">=1,<2"

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or not callable(self.load):
            raise PluginError(f"benchmark {self.name!r} needs a name without '/' and a load()")

    def __call__(self, options: Mapping[str, Any] | None = None) -> Benchmark:
        """Load the benchmark; an option it does not declare is an error naming those it has."""
        options = dict(options or {})
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(self.options) or "(none)"
            raise BenchmarkError(
                f"{self.name} has no option {unknown[0]!r}", f"its options are: {known}"
            )
        return self.load(options)
