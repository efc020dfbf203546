"""No-op detection: a run whose method changed no weight, or nothing the benchmark measures.

``run`` records a warning in the result (and logs it); ``validate --strict`` rejects such a
result; the conformance kit fails the method. Every metric equal to its Compromised reference
within ``NO_OP_TOLERANCE`` counts as changing nothing.
"""

from __future__ import annotations

import logging
from typing import Any

NO_OP_TOLERANCE = 1e-9
logger = logging.getLogger("salmu_harness.run")


def no_op_warnings(weights_changed: bool, metrics: dict[str, Any]) -> list[dict[str, str]]:
    """Warnings for a method that changed no weight, or no metric (each also logged)."""
    warnings = []
    if not weights_changed:
        warnings.append(
            {
                "code": "weights-unchanged",
                "message": "the method returned the Compromised weights unchanged: a no-op",
            }
        )
    elif metrics_equal_compromised(metrics):
        warnings.append(
            {
                "code": "metrics-unchanged",
                "message": "every metric equals the Compromised model's within 1e-9: the "
                "method changed nothing the benchmark measures",
            }
        )
    for warning in warnings:
        logger.warning(warning["message"])
    return warnings


def metrics_equal_compromised(metrics: dict[str, Any], tolerance: float = NO_OP_TOLERANCE) -> bool:
    """Whether every computed metric equals its Compromised reference within ``tolerance``."""
    compared = [
        (entry["value"], entry["references"]["compromised"]["value"])
        for entry in metrics.values()
        if entry.get("status") == "ok" and entry["references"]["compromised"].get("status") == "ok"
    ]
    return bool(compared) and all(abs(a - b) <= tolerance for a, b in compared)


def no_op_problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    """A run whose method changed nothing: (JSON path, message), or nothing."""
    if document.get("kind") != "run" or document.get("status") != "ok":
        return []
    codes = {w.get("code") for w in document.get("warnings", [])}
    if "weights-unchanged" in codes:
        return [("$.warnings", "the method returned the Compromised weights unchanged (a no-op)")]
    if metrics_equal_compromised(document["metrics"]):
        return [
            (
                "$.metrics",
                "every metric equals the Compromised reference within "
                f"{NO_OP_TOLERANCE:g}: the method changed nothing (a no-op)",
            )
        ]
    return []
