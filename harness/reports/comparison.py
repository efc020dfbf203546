"""Paired comparison of two results on the same benchmark: per-unit differences and a bootstrap.

The unit of pairing is the identity where both results have per-identity values (the forget and
holdout metrics), else the row (GenKnow images, fragile-set pairs). For each metric the
estimate is the mean over units of (B - A); its interval comes from resampling units with
replacement (a paired percentile bootstrap, with its own seeded generator). A difference is
significant when the interval excludes zero; which side is better follows the metric's
direction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from harness.errors import ResultError
from harness.results.loading import comparability, compatible, difference

DEFAULT_RESAMPLES = 10_000
DEFAULT_LEVEL = 0.95
_CHUNK = 500


@dataclass(frozen=True)
class MetricComparison:
    """B against A on one metric."""

    key: str
    name: str
    direction: str
    unit: str
    units: int
    a: float
    b: float
    difference: float
    ci: tuple[float, float]
    significant: bool
    better: str
    #: B - A per identity (empty when the units are rows)
    per_identity: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ci": list(self.ci)}


@dataclass(frozen=True)
class Comparison:
    """All metrics' comparisons, the skipped ones (with the reason) and the bootstrap used."""

    metrics: list[MetricComparison]
    skipped: dict[str, str]
    resamples: int
    level: float
    seed: int

    def to_json(self) -> dict[str, Any]:
        return {
            "bootstrap": {"resamples": self.resamples, "level": self.level, "seed": self.seed},
            "metrics": [m.to_json() for m in self.metrics],
            "skipped": self.skipped,
        }


def compare_results(
    a: dict[str, Any],
    b: dict[str, Any],
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Comparison:
    """Compare result ``b`` with result ``a`` on each metric both hold at the same version
    (the others are listed in ``skipped``); the results must be comparable otherwise."""
    for label, document in (("A", a), ("B", b)):
        if document["status"] != "ok":
            raise ResultError(
                f"result {label} is a failed run ({document['error']['message']})",
                "compare results of runs that finished",
            )
    basis_a, basis_b = comparability(a), comparability(b)
    if not compatible(basis_a, basis_b):
        raise ResultError(
            f"the two results are not comparable: B has {difference(basis_b, basis_a)}",
            "compare results computed on the same benchmark revision, metrics and settings",
        )
    rng = np.random.default_rng(seed)
    out, skipped = [], {}
    for key in [*a["metrics"], *(k for k in b["metrics"] if k not in a["metrics"])]:
        entry_a, entry_b = a["metrics"].get(key), b["metrics"].get(key)
        if entry_a is None or entry_b is None:
            skipped[key] = f"only in {'A' if entry_b is None else 'B'}"
            continue
        if entry_a["version"] != entry_b["version"]:
            skipped[key] = f"version {entry_a['version']} in A, {entry_b['version']} in B"
            continue
        if entry_a.get("status") != "ok" or entry_b.get("status") != "ok":
            skipped[key] = "not computed in both results"
            continue
        paired = _paired_values(entry_a, entry_b)
        if isinstance(paired, str):
            skipped[key] = paired
            continue
        unit, values_a, values_b = paired
        diffs = values_b - values_a
        identities = sorted(entry_a["per_identity"]) if unit == "identity" else []
        low, high = _paired_interval(diffs, resamples, level, rng)
        estimate = float(diffs.mean())
        significant = not (low <= 0.0 <= high)
        out.append(
            MetricComparison(
                key=key,
                name=entry_a["name"],
                direction=entry_a["direction"],
                unit=unit,
                units=len(diffs),
                a=float(entry_a["value"]),
                b=float(entry_b["value"]),
                difference=estimate,
                ci=(low, high),
                significant=significant,
                better=_better(entry_a["direction"], estimate, significant),
                per_identity={
                    i: round(float(d), 6) for i, d in zip(identities, diffs, strict=False)
                },
            )
        )
    return Comparison(out, skipped, resamples, level, seed)


def _paired_values(
    entry_a: dict[str, Any], entry_b: dict[str, Any]
) -> tuple[str, np.ndarray, np.ndarray] | str:
    ids_a, ids_b = entry_a.get("per_identity") or {}, entry_b.get("per_identity") or {}
    if ids_a and ids_b:
        if set(ids_a) != set(ids_b):
            return "the results cover different identities"
        order = sorted(ids_a)
        return "identity", np.array([ids_a[i] for i in order]), np.array([ids_b[i] for i in order])
    rows_a = (entry_a.get("per_row") or {}).get("value")
    rows_b = (entry_b.get("per_row") or {}).get("value")
    if rows_a and rows_b:
        if len(rows_a) != len(rows_b):
            return "the results have different numbers of rows"
        return "row", np.asarray(rows_a, dtype=float), np.asarray(rows_b, dtype=float)
    return "no per-identity or per-row values to pair"


def _paired_interval(
    diffs: np.ndarray, resamples: int, level: float, rng: np.random.Generator
) -> tuple[float, float]:
    means = []
    for start in range(0, resamples, _CHUNK):
        size = min(_CHUNK, resamples - start)
        picks = rng.integers(0, len(diffs), size=(size, len(diffs)))
        means.append(diffs[picks].mean(axis=1))
    alpha = (1 - level) / 2
    low, high = np.quantile(np.concatenate(means), [alpha, 1 - alpha])
    return float(low), float(high)


def _better(direction: str, estimate: float, significant: bool) -> str:
    if not significant:
        return "neither (not significant)"
    b_better = estimate < 0 if direction == "lower" else estimate > 0
    return "B" if b_better else "A"
