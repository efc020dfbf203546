"""The declaration of a benchmark that a plugin registers: its name, options and loader."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.errors import BenchmarkError, PluginError, check_name

if TYPE_CHECKING:
    from harness.benchmarks.base import Benchmark


@dataclass(frozen=True, kw_only=True)
class BenchmarkLoader:
    """A benchmark by name. ``load(options)`` returns the ``Benchmark``; ``options`` maps
    each option a user may pass (``--benchmark-option KEY=VALUE``) to its help text."""

    name: str
    """What users type: ``--benchmark NAME`` (lower-case letters, digits, ``. _ -``)."""
    description: str
    """What the benchmark is; listed by ``salmu-harness benchmarks``."""
    load: Callable[[Mapping[str, Any]], Benchmark]
    """``load(options)``: the loaded ``Benchmark``. ``options`` holds only what the user gave,
    as decoded values (``--benchmark-option KEY=VALUE`` reads VALUE as JSON, else a string);
    apply your own defaults. Raise ``harness.BenchmarkError`` for a clean message and exit 2."""
    options: Mapping[str, str] = field(default_factory=dict)
    """Each option a user may give -> its help text; any other option is refused."""
    plugin_api: str = ">=1,<2"
    """The plugin API versions this benchmark supports, as a version range."""

    def __post_init__(self) -> None:
        check_name("benchmark", self.name)
        if not callable(self.load):
            raise PluginError(f"benchmark {self.name!r}: load must be callable")

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Refuse an option the benchmark does not declare, naming those it has."""
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(self.options) or "(none)"
            raise BenchmarkError(
                f"{self.name} has no option {unknown[0]!r}", f"its options are: {known}"
            )

    def __call__(self, options: Mapping[str, Any] | None = None) -> Benchmark:
        """Load the benchmark; an option it does not declare is an error naming those it has."""
        options = dict(options or {})
        self.check_options(options)
        from harness.benchmarks.base import Benchmark  # datasets: loaded when a benchmark is

        loaded = self.load(options)
        if not isinstance(loaded, Benchmark):
            raise PluginError(
                f"benchmark {self.name!r}: load() returned {type(loaded).__name__}, "
                "not a harness.Benchmark",
                "return harness.load_benchmark(folder), or a Benchmark you assemble; "
                "report this to the plugin's authors",
            )
        return loaded
