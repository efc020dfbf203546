"""The declaration of a metric, and what its computation returns."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from harness.errors import PluginError

if TYPE_CHECKING:
    from harness.evaluation import EvaluationContext

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
Direction = Literal["lower", "higher"]
Reference = Literal["clean", "compromised"]
Group = Literal["efficacy", "utility", "other"]


class SkipMetric(Exception):
    """Raised by a metric's ``compute`` when it cannot run here; the result records the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
    values: dict[str, float] = field(default_factory=dict)
    per_row: dict[str, Sequence[float]] = field(default_factory=dict)
    groups: Sequence[str | None] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Metric:
    """A number computed from a model's embeddings of one or more benchmark splits.

    ``direction`` says whether lower or higher is better; ``target`` names the reference model
    whose value is the goal (efficacy metrics aim at Clean, utility metrics at Compromised).
    """

    key: str
    name: str
    description: str
    splits: tuple[str, ...]
    direction: Direction
    target: Reference
    version: str
    compute: Callable[[EvaluationContext], MetricOutcome]
    group: Group = "other"
    bounds: tuple[float, float] | None = None
    plugin_api: str = ">=1,<2"

    def __post_init__(self) -> None:
        if not KEY_PATTERN.match(self.key):
            raise PluginError(f"metric key {self.key!r} is invalid", "use letters, digits, . _ -")
        if self.direction not in ("lower", "higher"):
            raise PluginError(f"metric {self.key!r}: direction must be 'lower' or 'higher'")
        if self.target not in ("clean", "compromised"):
            raise PluginError(f"metric {self.key!r}: target must be 'clean' or 'compromised'")
        if self.group not in ("efficacy", "utility", "other"):
            raise PluginError(f"metric {self.key!r}: group must be efficacy, utility or other")
        if not callable(self.compute):
            raise PluginError(f"metric {self.key!r}: compute must be callable")
        object.__setattr__(self, "splits", tuple(self.splits))

    @property
    def summary(self) -> str:
        """The first line of the description."""
        return self.description.strip().splitlines()[0] if self.description.strip() else ""
