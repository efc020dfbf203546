"""Plots of deletion-request schedules (drawn by ``harness.reports.plots`` when the results
hold schedules): ``rounds`` for sequences, ``fractions`` for ``scaled`` schedules."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from harness.reports.leaderboard import Leaderboard
from harness.reports.plot_style import (
    CLEAN_COLOR,
    COMPROMISED_COLOR,
    METHOD_COLORS,
    METHOD_MARKERS,
    benchmark_label,
    label_text,
    metric_name,
)

GROUP_STYLES = {"requested": "-", "earlier": "--", "not_yet": ":"}
GROUP_NAMES = {
    "requested": "requested this round",
    "earlier": "requested earlier",
    "not_yet": "not requested yet",
}


def rounds(board: Leaderboard) -> Figure:
    """Gap closed per persona group (left) and utility (right) over a sequence's rounds."""
    rows = [row for row in board.rows if row.sequence and row.sequence["kind"] != "scaled"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    first = rows[0].sequence or {}
    for index, row in enumerate(rows):
        sequence = row.sequence or {}
        numbers = [r["round"] for r in sequence["rounds"]]
        for group, style in GROUP_STYLES.items():
            points = [(n, r[group]) for n, r in zip(numbers, sequence["rounds"], strict=True)]
            points = [(n, v) for n, v in points if v is not None]
            _line(left, points, style, index, f"{row.display}: {GROUP_NAMES[group]}")
        utility = [(n, r["utility"]) for n, r in zip(numbers, sequence["rounds"], strict=True)]
        _line(right, [(n, v) for n, v in utility if v is not None], "-", index, row.display)
    _gap_axes(left, board, first["forgetting"], "round")
    left.set_title("Forgetting per persona group after each round")
    utility_key = first["utility"]
    for role, shade in (("clean", CLEAN_COLOR), ("compromised", COMPROMISED_COLOR)):
        value = board.references[role].get(utility_key)
        if value is not None:
            right.axhline(value, color=shade, linewidth=0.8, linestyle="--", label=role.title())
    right.set_xlabel("round")
    right.set_ylabel(metric_name(board, utility_key))
    right.set_title("Utility over the rounds")
    right.legend(fontsize=7, loc="best")
    for axes in (left, right):
        axes.grid(alpha=0.3)
        axes.xaxis.get_major_locator().set_params(integer=True)
    figure.suptitle(f"Sequential deletion requests on {benchmark_label(board)}")
    figure.tight_layout()
    return figure


def fractions(board: Leaderboard) -> Figure:
    """Gap closed on the requested and the not-requested personas against the fraction."""
    rows = [row for row in board.rows if row.sequence and row.sequence["kind"] == "scaled"]
    by_method: dict[str, list[tuple[float, float | None, float | None]]] = {}
    for row in rows:
        sequence = row.sequence or {}
        (only,) = sequence["rounds"]
        name = row.display.split(" [", 1)[0]
        by_method.setdefault(name, []).append(
            (sequence["fraction"], only["requested"], only["not_yet"])
        )
    figure, axes = plt.subplots(figsize=(7.5, 5.5))
    forgetting = (rows[0].sequence or {})["forgetting"]
    for index, (name, points) in enumerate(sorted(by_method.items())):
        points.sort()
        for position, style, what in ((1, "-", "requested"), (2, "--", "not requested")):
            shown = [(p[0], p[position]) for p in points if p[position] is not None]
            _line(axes, shown, style, index, f"{name}: {what}")
    _gap_axes(axes, board, forgetting, "fraction of the forget personas requested")
    axes.set_title(f"One request of a fraction of the personas on {benchmark_label(board)}")
    figure.tight_layout()
    return figure


def _line(axes: Any, points: list[tuple[Any, Any]], style: str, index: int, label: str) -> None:
    """One row's line (its colour and marker by its index), if it has points."""
    if points:
        axes.plot(
            *zip(*points, strict=True),
            style,
            marker=METHOD_MARKERS[index % len(METHOD_MARKERS)],
            color=METHOD_COLORS[index % len(METHOD_COLORS)],
            label=label_text(label),
        )


def _gap_axes(axes: Any, board: Leaderboard, key: str, xlabel: str) -> None:
    """Axes of a gap closed: Clean at 1, Compromised at 0, the labels, grid and legend."""
    axes.axhline(1.0, color=CLEAN_COLOR, linewidth=0.8, linestyle="--")
    axes.axhline(0.0, color=COMPROMISED_COLOR, linewidth=0.8, linestyle="--")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(f"{metric_name(board, key)} gap closed (0 = Compromised, 1 = Clean)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="best")
