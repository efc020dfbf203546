"""Normalised scores: how far a value moved from the Compromised reference towards the target.

- target Clean (efficacy): gap closed = (compromised - value) / (compromised - clean);
  0 at the Compromised value, 1 at the Clean value, above 1 past Clean (over-correction).
- target Compromised (utility): retained = value / compromised; 1 keeps the Compromised value.

A score is omitted (``None``, with the reason) when its denominator is below ``MIN_GAP``.
"""

from __future__ import annotations

from typing import Any

MIN_GAP = 1e-6


def normalised_score(target: str, value: float, clean: float, compromised: float) -> dict[str, Any]:
    """The score, the formula's name and, when omitted, why."""
    if target == "clean":
        gap = compromised - clean
        if abs(gap) < MIN_GAP:
            return {"score": None, "formula": "gap_closed", "reason": "Clean and Compromised agree"}
        return {"score": (compromised - value) / gap, "formula": "gap_closed"}
    if abs(compromised) < MIN_GAP:
        return {"score": None, "formula": "retained", "reason": "the Compromised value is ~0"}
    return {"score": value / compromised, "formula": "retained"}
