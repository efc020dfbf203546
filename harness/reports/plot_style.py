"""What every plot shares: matplotlib without a display, stable SVG ids, the reference and
method colours, and how metrics, rows and benchmarks are named on a figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "salmu-harness"  # stable ids: same results, same SVG

import matplotlib.pyplot as plt  # noqa: E402

from harness.reports.leaderboard import Leaderboard, MetricInfo  # noqa: E402

CLEAN_COLOR, COMPROMISED_COLOR = "#2a9d3a", "#c0392b"
#: tab10 without its green and red, which mark Clean and Compromised
METHOD_COLORS = [plt.get_cmap("tab10")(i) for i in (0, 1, 4, 5, 6, 7, 8, 9)]
METHOD_MARKERS = ("o", "s", "D", "^", "v", "P", "h", "<")


def label_text(label: str) -> str:
    """A label drawn as written (matplotlib would read ``$...$`` as math)."""
    return label.replace("$", r"\$")


def metric_info(board: Leaderboard, key: str) -> MetricInfo:
    info = next((m for m in board.metrics if m.key == key), None)
    return info or MetricInfo(key, key, "other", "lower", "clean")


def has_score(board: Leaderboard, key: str) -> bool:
    """Whether some row has a normalised score for ``key``."""
    return any(
        row.cells.get(key) is not None and row.cells[key].score is not None for row in board.rows
    )


def metric_name(board: Leaderboard, key: str) -> str:
    return metric_info(board, key).name


def benchmark_label(board: Leaderboard) -> str:
    return f"{board.benchmark['name']} ({board.benchmark['revision']})"
