"""The compute budget: how many training samples a method may read, and what it has read.

One budget unit is as many samples as the forget split has rows (one pass over it); a budget of
5 lets a method read 5 x len(forget) samples in total, forget and retain reads counted alike.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.errors import BudgetExceededError

DEFAULT_BUDGET = 5.0


@dataclass
class Budget:
    """Counts every sample read per split and refuses reads past the limit."""

    multiple: float
    """The budget in units (``--budget``): passes over the forget split."""
    unit_samples: int
    """Samples in one unit: the forget split's rows."""
    reads: Counter[str] = field(default_factory=Counter)
    """Samples read so far, per split name."""
    optimizer_steps: int = 0
    """Optimizer steps counted so far (``ctx.step()``)."""

    @property
    def limit(self) -> int:
        """The most samples the method may read: ``multiple x unit_samples``."""
        return int(self.multiple * self.unit_samples)

    @property
    def used(self) -> int:
        """Samples read so far, all splits together."""
        return sum(self.reads.values())

    @property
    def remaining(self) -> int:
        """Samples the method may still read."""
        return max(0, self.limit - self.used)

    def allows(self, samples: int) -> bool:
        """Whether ``samples`` more reads fit in the budget."""
        return self.used + samples <= self.limit

    def charge(self, split: str, samples: int) -> None:
        """Record ``samples`` reads from ``split``; raise if that would exceed the budget."""
        if not self.allows(samples):
            raise BudgetExceededError(
                f"reading {samples} more samples from {split!r} would exceed the budget of "
                f"{self.multiple:g}x = {self.limit} samples ({self.used} already read)",
                "stop when ctx.budget.remaining runs out, or raise --budget",
            )
        self.reads[split] += samples

    def to_json(self) -> dict[str, Any]:
        """The result's ``budget`` section: ``unit`` (``forget_rows``), ``unit_samples``,
        ``multiple``, ``limit_samples``, ``samples_read`` (per split), ``used_samples`` and
        ``optimizer_steps``."""
        return {
            "unit": "forget_rows",
            "unit_samples": self.unit_samples,
            "multiple": self.multiple,
            "limit_samples": self.limit,
            "samples_read": dict(sorted(self.reads.items())),
            "used_samples": self.used,
            "optimizer_steps": self.optimizer_steps,
        }
