"""The declarations of metrics and metric suites, and what a metric's computation returns."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from harness.errors import PluginError, check_name

if TYPE_CHECKING:
    from harness.benchmarks.base import Benchmark
    from harness.evaluation.context import EvaluationContext
    from harness.protocol import EvaluationProtocol

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: how far outside its ``bounds`` a value may lie (rounding) before it counts as out of bounds
BOUNDS_TOLERANCE = 1e-6
Direction = Literal["lower", "higher"]
Reference = Literal["clean", "compromised"]
Group = Literal["efficacy", "utility", "robustness", "other"]
GROUPS: tuple[str, ...] = ("efficacy", "utility", "robustness", "other")
DEFAULT_COST = "reads the shared embeddings of its splits"


class SkipMetric(Exception):
    """Raised by a metric's ``compute`` when it cannot run here; the result records the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        """Why the metric cannot run (the result's ``metrics.KEY.reason``)."""


@dataclass
class MetricOutcome:
    """What a metric computes for one model.

    ``value`` is the headline number. ``values`` holds secondary numbers (e.g. ``r_at_1``).
    ``per_row`` maps a value name (``"value"`` or a key of ``values``) to per-row numbers whose
    mean is that value; the harness then adds a bootstrap confidence interval, resampling the
    rows grouped by ``groups`` (one identity id per row; ``None`` entries resample as single rows).
    ``details`` records the choices the computation made (JSON-serialisable). ``intervals``
    holds confidence intervals the metric computed itself (e.g. one that also resamples a
    random draw), added to the bootstrap ones under their own names.
    """

    value: float
    """The headline number (the result's ``metrics.KEY.value``)."""
    values: dict[str, float] = field(default_factory=dict)
    """Secondary numbers by name (the result's ``metrics.KEY.values``)."""
    per_row: dict[str, Sequence[float] | np.ndarray] = field(default_factory=dict)
    """Value name -> per-row numbers whose mean is that value (a sequence or numpy array)."""
    groups: Sequence[str | None] | None = None
    """One identity id per row of ``per_row``: the bootstrap resamples identities, not rows."""
    details: dict[str, Any] = field(default_factory=dict)
    """JSON-serialisable record of the choices the computation made."""
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Confidence intervals the metric computed itself, by value name."""


@dataclass(frozen=True, kw_only=True)
class Metric:
    """A number computed from a model's embeddings of one or more benchmark splits.

    ``direction`` says whether lower or higher is better; ``target`` names the reference model
    whose value is the goal (efficacy metrics aim at Clean, utility metrics at Compromised).
    """

    key: str
    """The key under which results record the metric (``--metrics KEY``)."""
    name: str
    """The human-readable name shown in tables and plots."""
    description: str
    """What the metric measures; the first line is its summary in ``salmu-harness metrics``."""
    splits: tuple[str, ...]
    """The benchmark splits it reads (checked before any model is loaded)."""
    direction: Direction
    """``"lower"`` or ``"higher"``: which way is better."""
    target: Reference
    """``"clean"`` or ``"compromised"``: the reference model whose value is the goal."""
    version: str
    """The metric's own version, recorded in every result."""
    compute: Callable[[EvaluationContext], MetricOutcome]
    """``compute(ctx)``: a ``MetricOutcome`` (or raise ``SkipMetric``)."""
    group: Group = "other"
    """``"efficacy"``, ``"utility"``, ``"robustness"`` or ``"other"``: the section of tables it
    appears in, and a name for selecting the group (``--metrics robustness``)."""
    bounds: tuple[float, float] | None = None
    """The range a valid value lies in; a value outside it is recorded as failed."""
    plugin_api: str = ">=1,<2"
    """The plugin API versions this metric supports, as a version range (``>=1,<2``); the
    harness refuses to load a metric whose range excludes its own plugin API version."""
    opt_in: bool = False
    """Computed only when asked for, by key, name or group (``--metrics robustness``), not by
    default: for metrics that cost much more than reading embeddings."""
    cost: str = DEFAULT_COST
    """What computing the metric costs, in words (listed by ``salmu-harness metrics``)."""
    reads_references: bool = False
    """Whether ``compute`` reads the Clean or Compromised context (``ctx.reference``): their
    models and embeddings are then kept for every evaluated model instead of released."""

    def __post_init__(self) -> None:
        if not KEY_PATTERN.match(self.key):
            raise PluginError(f"metric key {self.key!r} is invalid", "use letters, digits, . _ -")
        if self.direction not in ("lower", "higher"):
            raise PluginError(f"metric {self.key!r}: direction must be 'lower' or 'higher'")
        if self.target not in ("clean", "compromised"):
            raise PluginError(f"metric {self.key!r}: target must be 'clean' or 'compromised'")
        if self.group not in GROUPS:
            raise PluginError(f"metric {self.key!r}: group must be one of {', '.join(GROUPS)}")
        if not callable(self.compute):
            raise PluginError(f"metric {self.key!r}: compute must be callable")
        object.__setattr__(self, "splits", tuple(self.splits))

    @property
    def summary(self) -> str:
        """The first line of the description."""
        return self.description.strip().splitlines()[0] if self.description.strip() else ""

    def out_of_bounds(self, value: float) -> bool:
        """Whether ``value`` lies outside ``bounds`` (beyond rounding)."""
        if self.bounds is None:
            return False
        low, high = self.bounds
        return not low - BOUNDS_TOLERANCE <= value <= high + BOUNDS_TOLERANCE


@dataclass(frozen=True)
class Withheld:
    """Rows of a benchmark's method-retain source that an evaluation reads, by file name or
    caption: methods never receive them."""

    file_names: frozenset[str] = frozenset()
    """Withheld rows, by file name."""
    texts: frozenset[str] = frozenset()
    """Withheld rows, by caption."""


@dataclass(frozen=True, kw_only=True)
class MetricSuite:
    """What a metric plugin declares about its metrics as a whole, for the parts of the harness
    that read results across metrics.

    ``forgetting`` and ``utility`` are the metric keys whose normalised scores summarise a
    result (trade-off plots, the sweeps' ``hmean`` objective); ``collateral`` are the keys of
    the collateral-damage plot and ``per_identity`` the key whose per-identity values are
    plotted. ``diagnose(metrics, rules)`` returns the result's ``diagnosis`` section from its
    ``metrics`` section; ``rules`` are its default thresholds (``--rule KEY=VALUE`` overrides
    them). ``withheld(benchmark, protocol, seed)`` names what the evaluation reads of the
    benchmark's method-retain source, so that methods never train on it.
    ``diagnose_schedule(summary, rules)`` diagnoses a deletion-request schedule's sequence of
    rounds (relapse, collateral forgetting, utility erosion); ``schedule_rules`` are its
    thresholds.
    """

    name: str
    """The suite's name (``--suite NAME`` where several are installed)."""
    description: str
    """What the suite measures as a whole."""
    forgetting: str
    """Metric key whose normalised score summarises forgetting."""
    utility: str
    """Metric key whose normalised score summarises utility."""
    collateral: tuple[str, ...] = ()
    """Metric keys of the collateral-damage plot."""
    per_identity: str | None = None
    """Metric key whose per-identity values are plotted."""
    attacks: tuple[str, ...] = ()
    """Keys of attacked versions of the forgetting metric (same scale, same target), plotted
    beside it: how much of the gap the forgetting keeps closed under attack."""
    rules: Mapping[str, float] = field(default_factory=dict)
    """Default diagnosis thresholds, by name (``--rule KEY=VALUE`` overrides them)."""
    diagnose: Callable[[Mapping[str, Any], Mapping[str, float]], dict[str, Any]] | None = None
    """``diagnose(metrics, rules)``: the result's ``diagnosis`` section."""
    withheld: Callable[[Benchmark, EvaluationProtocol, int], Withheld] | None = None
    """``withheld(benchmark, protocol, seed)``: what methods must never read."""
    schedule_rules: Mapping[str, float] = field(default_factory=dict)
    """Default thresholds of the schedule diagnosis (``--rule KEY=VALUE`` overrides them)."""
    diagnose_schedule: Callable[[Mapping[str, Any], Mapping[str, float]], dict[str, Any]] | None = (
        None
    )
    """``diagnose_schedule(summary, rules)``: a schedule result's ``schedule.diagnosis`` from its
    ``schedule.summary`` (what the sequence of rounds shows)."""
    plugin_api: str = ">=1,<2"
    """The plugin API versions this suite supports, as a version range."""

    def __post_init__(self) -> None:
        check_name("suite", self.name)
        for key in (self.forgetting, self.utility, *self.collateral, *self.attacks):
            if not KEY_PATTERN.match(key):
                raise PluginError(f"suite {self.name!r}: metric key {key!r} is invalid")
        object.__setattr__(self, "collateral", tuple(self.collateral))
        object.__setattr__(self, "attacks", tuple(self.attacks))

    @property
    def keys(self) -> tuple[str, ...]:
        """Every metric key the suite names."""
        keys = (self.forgetting, self.utility, *self.collateral, self.per_identity, *self.attacks)
        return tuple(dict.fromkeys(k for k in keys if k))

    def declaration(self) -> dict[str, Any]:
        """What results record of the suite, so that reports need no plugin to read them."""
        return {
            "name": self.name,
            "forgetting": self.forgetting,
            "utility": self.utility,
            "collateral": list(self.collateral),
            "per_identity": self.per_identity,
            "attacks": list(self.attacks),
        }
