"""The compute budget: how many training samples a method may read, and what it has read.

The rule (``forget-passes``): a budget of ``B`` lets every method make ``B`` passes over the
forget split (``B x len(forget)`` forget samples), whether or not it also reads retain data.
Retain samples are counted separately, up to ``RETAIN_PER_FORGET`` per forget sample of the
budget: methods that read retain data take their retain batches alongside their forget batches
(the benchmark authors' recipe: 128 retain pairs beside every 16 forget pairs) and so see as
many forget passes as forget-only methods. A method that reads only retain data (fine-tuning)
is given ``B x len(forget)`` retain samples by the shared loop.

Results written before this rule (``samples``) counted forget and retain reads against one
shared limit of ``B x len(forget)``; they are read back with ``rule: samples``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.errors import BudgetExceededError

DEFAULT_BUDGET = 5.0
RULE = "forget-passes"
#: retain samples a method may read per forget sample of its budget
RETAIN_PER_FORGET = 8


@dataclass
class Budget:
    """Counts every sample read per split and refuses reads past the split's limit."""

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
        """The forget samples the method may read: ``multiple x unit_samples``."""
        return int(self.multiple * self.unit_samples)

    @property
    def retain_limit(self) -> int:
        """The retain samples the method may read: ``RETAIN_PER_FORGET x limit``."""
        return RETAIN_PER_FORGET * self.limit

    def limit_of(self, split: str) -> int:
        """The samples the method may read from ``split``."""
        return self.limit if split == "forget" else self.retain_limit

    @property
    def used(self) -> int:
        """Samples read so far, all splits together."""
        return sum(self.reads.values())

    @property
    def remaining(self) -> int:
        """Forget samples the method may still read (the passes left, in samples)."""
        return self.remaining_of("forget")

    def remaining_of(self, split: str) -> int:
        """Samples the method may still read from ``split``."""
        return max(0, self.limit_of(split) - self.reads[split])

    @property
    def forget_passes(self) -> float:
        """Passes over the forget split read so far."""
        return self.reads["forget"] / self.unit_samples if self.unit_samples else 0.0

    def allows(self, samples: int, split: str = "forget") -> bool:
        """Whether ``samples`` more reads from ``split`` fit in the budget."""
        return self.reads[split] + samples <= self.limit_of(split)

    def charge(self, split: str, samples: int) -> None:
        """Record ``samples`` reads from ``split``; raise if that would exceed its limit."""
        if not self.allows(samples, split):
            raise BudgetExceededError(
                f"reading {samples} more samples from {split!r} would exceed the budget of "
                f"{self.multiple:g}x: at most {self.limit_of(split)} {split} samples "
                f"({self.reads[split]} already read)",
                "stop when ctx.budget.remaining_of(split) runs out, or raise --budget",
            )
        self.reads[split] += samples

    def to_json(self) -> dict[str, Any]:
        """The result's ``budget`` section: ``rule``, ``unit`` (``forget_rows``),
        ``unit_samples``, ``multiple``, ``limit_samples`` (forget), ``retain_limit_samples``,
        ``samples_read`` (per split), ``used_samples``, ``forget_passes`` and
        ``optimizer_steps``."""
        return {
            "rule": RULE,
            "unit": "forget_rows",
            "unit_samples": self.unit_samples,
            "multiple": self.multiple,
            "limit_samples": self.limit,
            "retain_limit_samples": self.retain_limit,
            "samples_read": dict(sorted(self.reads.items())),
            "used_samples": self.used,
            "forget_passes": round(self.forget_passes, 6),
            "optimizer_steps": self.optimizer_steps,
        }


def rule_of(section: dict[str, Any] | None) -> str | None:
    """The budget rule a result's ``budget`` section was counted under (``samples`` before the
    rule was recorded); ``None`` for a result without a budget."""
    if not section:
        return None
    return str(section.get("rule", "samples"))
