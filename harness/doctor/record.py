"""The rows ``doctor`` prints: one ``Check`` per thing checked, and the report they form."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "warning", "problem"]
#: the order rows are listed in, and the JSON ``status`` values
STATUSES: tuple[Status, ...] = ("ok", "warning", "problem")
DOCTOR_SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class Check:
    """One thing checked: ``ok`` (ready), ``warning`` (works, at a cost) or ``problem``
    (a real run will fail, or give numbers that cannot sit next to the paper's)."""

    group: str
    """What the check is about: software, hardware, hub, disk, genknow, plugins, caches."""
    name: str
    """What was checked, in a few words."""
    status: Status
    detail: str
    """What was found."""
    fix: str | None = None
    """The one thing to do about a warning or a problem."""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "fix": self.fix,
        }


@dataclass
class DoctorReport:
    """Every check's row, for one benchmark."""

    benchmark: str
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(check.status for check in self.checks)
        return {status: found.get(status, 0) for status in STATUSES}

    @property
    def ok(self) -> bool:
        """No problem (warnings allowed)."""
        return self.counts["problem"] == 0

    def to_json(self) -> dict[str, Any]:
        from harness.versions import __version__

        return {
            "schema_version": DOCTOR_SCHEMA_VERSION,
            "harness_version": __version__,
            "benchmark": self.benchmark,
            "ok": self.ok,
            "counts": self.counts,
            "seconds": round(self.seconds, 2),
            "checks": [check.to_json() for check in self.checks],
        }
