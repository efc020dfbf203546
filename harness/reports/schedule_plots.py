"""Plots of deletion-request schedules (drawn by ``harness.reports.plots`` when the results
hold schedules): ``rounds`` for sequences, ``fractions`` for ``scaled`` schedules."""

from __future__ import annotations

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
        color = METHOD_COLORS[index % len(METHOD_COLORS)]
        sequence = row.sequence or {}
        numbers = [r["round"] for r in sequence["rounds"]]
        for group, style in GROUP_STYLES.items():
            points = [(n, r[group]) for n, r in zip(numbers, sequence["rounds"], strict=True)]
            points = [(n, v) for n, v in points if v is not None]
            if points:
                left.plot(
                    *zip(*points, strict=True),
                    style,
                    marker=METHOD_MARKERS[index % len(METHOD_MARKERS)],
                    color=color,
                    label=label_text(f"{row.display}: {GROUP_NAMES[group]}"),
                )
        utility = [(n, r["utility"]) for n, r in zip(numbers, sequence["rounds"], strict=True)]
        utility = [(n, v) for n, v in utility if v is not None]
        if utility:
            right.plot(
                *zip(*utility, strict=True), "-o", color=color, label=label_text(row.display)
            )
    left.axhline(1.0, color=CLEAN_COLOR, linewidth=0.8, linestyle="--")
    left.axhline(0.0, color=COMPROMISED_COLOR, linewidth=0.8, linestyle="--")
    left.set_xlabel("round")
    left.set_ylabel(
        f"{metric_name(board, first['forgetting'])} gap closed (0 = Compromised, 1 = Clean)"
    )
    left.set_title("Forgetting per persona group after each round")
    left.legend(fontsize=7, loc="best")
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
        color = METHOD_COLORS[index % len(METHOD_COLORS)]
        points.sort()
        for position, style, what in ((1, "-", "requested"), (2, "--", "not requested")):
            shown = [(p[0], p[position]) for p in points if p[position] is not None]
            if shown:
                axes.plot(
                    *zip(*shown, strict=True),
                    style,
                    marker=METHOD_MARKERS[index % len(METHOD_MARKERS)],
                    color=color,
                    label=label_text(f"{name}: {what}"),
                )
    axes.axhline(1.0, color=CLEAN_COLOR, linewidth=0.8, linestyle="--")
    axes.axhline(0.0, color=COMPROMISED_COLOR, linewidth=0.8, linestyle="--")
    axes.set_xlabel("fraction of the forget personas requested")
    axes.set_ylabel(f"{metric_name(board, forgetting)} gap closed (0 = Compromised, 1 = Clean)")
    axes.set_title(f"One request of a fraction of the personas on {benchmark_label(board)}")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="best")
    figure.tight_layout()
    return figure
