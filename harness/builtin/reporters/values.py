"""What the first-party reporters record: a result's config as flat parameters, and the
numbers of a result worth charting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"method": {"parameters": {"lr": 1e-4}}}`` -> ``{"method.parameters.lr": 1e-4}``."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def result_metrics(document: Mapping[str, Any]) -> dict[str, float]:
    """The numbers of a result worth charting: each metric's value and normalised score
    (``metrics/1.1 RetFail``, ``normalized/1.1 RetFail``), and the forget passes made."""
    numbers: dict[str, float] = {}
    for key, metric in document.get("metrics", {}).items():
        if metric.get("status") != "ok":
            continue
        label = f"{key} {metric.get('name', '')}".strip()
        numbers[f"metrics/{label}"] = float(metric["value"])
        score = (metric.get("normalized") or {}).get("score")
        if score is not None:
            numbers[f"normalized/{label}"] = float(score)
    passes = (document.get("budget") or {}).get("forget_passes")
    if passes is not None:
        numbers["budget/forget_passes"] = float(passes)
    return numbers
