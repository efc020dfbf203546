"""Rendering a result document as a table: each metric beside its Clean and Compromised values."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

HEADERS = ("key", "metric", "better", "value", "95% CI", "Clean", "Compromised", "score")


def _number(entry: dict[str, Any]) -> str:
    status = entry.get("status")
    if status == "ok":
        return f"{entry['value']:.4f}"
    return "skipped" if status == "skipped" else "FAILED"


def metrics_rows(document: dict[str, Any]) -> list[list[str]]:
    """One row per metric, in key order."""
    rows = []
    for key, metric in document["metrics"].items():
        ci = metric.get("ci", {}).get("value")
        normalized = metric.get("normalized", {})
        score = normalized.get("score")
        label = "gap closed" if normalized.get("formula") == "gap_closed" else "retained"
        rows.append(
            [
                key,
                metric["name"],
                f"{metric['direction']} (→{metric['target']})",
                _number(metric),
                f"[{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "",
                _number(metric["references"]["clean"]),
                _number(metric["references"]["compromised"]),
                f"{score:.0%} {label}" if score is not None else "",
            ]
        )
    return rows


def render(document: dict[str, Any], table_format: str = "simple") -> str:
    """The result as text: a header line, the metrics table, then notes on skips and failures."""
    method = document.get("method")
    title = (
        f"{method['name']} {method['version']}"
        if method
        else f"evaluation of {document['models']['evaluated']['id']}"
    )
    lines = [
        f"{title} on {document['benchmark']['name']} ({document['benchmark']['revision']})"
        f"  status: {document['status']}"
    ]
    if document["status"] == "failed":
        lines.append(f"error: {document['error']['message']}")
        return "\n".join(lines)
    lines.append(
        tabulate(
            metrics_rows(document), headers=HEADERS, tablefmt=table_format, disable_numparse=True
        )
    )
    for key, metric in document["metrics"].items():
        if metric.get("status") == "skipped":
            lines.append(f"{key} {metric['name']} skipped: {metric['reason']}")
        elif metric.get("status") == "failed":
            lines.append(f"{key} {metric['name']} FAILED: {metric['error']}")
    budget = document.get("budget")
    if budget:
        lines.append(
            f"budget {budget['multiple']:g}x: {budget['used_samples']}/{budget['limit_samples']} "
            f"samples, {budget['optimizer_steps']} optimizer steps"
        )
    lines.append(f"wall time {document['cost']['wall_seconds']:.1f} s")
    return "\n".join(lines)
