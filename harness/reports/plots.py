"""Plots of a leaderboard (matplotlib, no display needed): PNG and SVG files, or SVG text.

Which metrics they show is what the results' metric suite declares (for SALMUBench: RetFail,
GenKnow, InterIdSim and IntraIdSim); results without a suite get none of them.

- ``tradeoff``: the forgetting metric's gap closed against the utility metric's retention, one
  point per row with its 95% interval, Clean and Compromised marked. Top right is the goal.
- ``collateral``: the collateral metrics per row beside the Clean and Compromised values; below
  the Clean line a method forgot what it was never asked to forget.
- ``per_identity``: the per-identity metric's values per row (seeds averaged per identity),
  beside the references' distributions.
- ``robustness``: per row, the share of the forgetting metric's gap closed, before and after
  each attack the suite declares (drawn when the results hold an attack): a bar that drops
  under attack is forgetting that was only hidden.
- ``rounds``: for rows of ``sequential`` (or custom) schedules, the forgetting metric's gap
  closed after each round for the personas requested in that round, in earlier rounds and not
  yet, and the utility metric over the rounds; ``fractions``: for ``scaled`` rows, the gap
  closed on the requested and the not-requested personas against the fraction requested.
  Drawn when the results hold schedules.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from harness.reports.leaderboard import Leaderboard
from harness.reports.plot_style import (
    CLEAN_COLOR,
    COMPROMISED_COLOR,
    METHOD_COLORS,
    METHOD_MARKERS,
    benchmark_label,
    has_score,
    label_text,
    metric_info,
    metric_name,
)
from harness.reports.schedule_plots import fractions, rounds


def tradeoff(board: Leaderboard) -> Figure:
    """The forgetting metric's gap closed (y) against the utility metric's retention (x)."""
    suite = board.suite or {}
    forget_key, utility_key = suite["forgetting"], suite["utility"]
    forgetting, utility = metric_name(board, forget_key), metric_name(board, utility_key)
    figure, axes = plt.subplots(figsize=(7.5, 5.5))
    clean, compromised = board.references["clean"], board.references["compromised"]
    k_forget, c_forget = compromised.get(forget_key), clean.get(forget_key)
    k_kept = compromised.get(utility_key)
    for index, row in enumerate(board.rows):
        forget, kept = row.cells.get(forget_key), row.cells.get(utility_key)
        if not forget or not kept or forget.score is None or kept.score is None:
            continue
        yerr = xerr = None
        if forget.ci and k_forget is not None and c_forget is not None and k_forget != c_forget:
            ends = sorted((k_forget - v) / (k_forget - c_forget) for v in forget.ci)
            yerr = [[max(forget.score - ends[0], 0)], [max(ends[1] - forget.score, 0)]]
        if kept.ci and k_kept:
            ends = sorted(v / k_kept for v in kept.ci)
            xerr = [[max(kept.score - ends[0], 0)], [max(ends[1] - kept.score, 0)]]
        axes.errorbar(
            kept.score,
            forget.score,
            xerr=xerr,
            yerr=yerr,
            fmt=METHOD_MARKERS[index % len(METHOD_MARKERS)],
            color=METHOD_COLORS[index % len(METHOD_COLORS)],
            capsize=3,
            markersize=7,
            label=label_text(f"{row.display} (n={forget.n})"),
        )
    clean_kept = clean.get(utility_key)
    if k_kept and clean_kept is not None:
        axes.scatter(
            [clean_kept / k_kept],
            [1.0],
            marker="*",
            s=220,
            color=CLEAN_COLOR,
            label="Clean (target)",
            zorder=5,
        )
    axes.scatter(
        [1.0],
        [0.0],
        marker="X",
        s=140,
        color=COMPROMISED_COLOR,
        label="Compromised (start)",
        zorder=5,
    )
    axes.axhline(1.0, color=CLEAN_COLOR, linewidth=0.8, linestyle="--")
    axes.axvline(1.0, color="grey", linewidth=0.8, linestyle=":")
    axes.set_xlabel(f"{utility} retained (value / Compromised's; 1 = kept)")
    axes.set_ylabel(f"{forgetting} gap closed (0 = Compromised, 1 = Clean)")
    axes.set_title(f"Forgetting vs utility on {benchmark_label(board)}\n(bars: 95% bootstrap CI)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="best")
    figure.tight_layout()
    return figure


def collateral(board: Leaderboard) -> Figure:
    """The collateral metrics per row, with the Clean and Compromised values as lines."""
    keys = list((board.suite or {}).get("collateral", []))
    figure, axes = plt.subplots(figsize=(max(6.5, 1.3 * len(board.rows) + 3), 5))
    width = 0.8 / max(len(keys), 1)
    shades = ("#4c72b0", "#8fb0de", "#2b4a7a", "#c3d4ee")
    for offset, key in enumerate(keys):
        info = metric_info(board, key)
        name = f"{info.name} ({', '.join(info.splits)})" if info.splits else info.name
        hatch = "" if offset % 2 == 0 else "//"
        xs: list[float] = []
        means: list[float] = []
        errors: list[list[float]] = [[], []]
        for index, row in enumerate(board.rows):
            cell = row.cells.get(key)
            if cell is None:
                continue
            xs.append(index + (offset - (len(keys) - 1) / 2) * width)
            means.append(cell.mean)
            low, high = cell.ci or (cell.mean, cell.mean)
            errors[0].append(max(cell.mean - low, 0))
            errors[1].append(max(high - cell.mean, 0))
        axes.bar(
            xs,
            means,
            width,
            yerr=errors,
            capsize=3,
            label=name,
            hatch=hatch,
            color=shades[offset % len(shades)],
            edgecolor="black",
            linewidth=0.5,
        )
        for role, color, style in (
            ("clean", CLEAN_COLOR, "--"),
            ("compromised", COMPROMISED_COLOR, ":"),
        ):
            value = board.references[role].get(key)
            if value is not None:
                axes.axhline(
                    value,
                    color=color,
                    linestyle=style,
                    linewidth=1.2,
                    label=f"{role.capitalize()} {name.split()[0]} ({value:.3f})",
                )
    axes.set_xticks(
        range(len(board.rows)),
        [label_text(row.display) for row in board.rows],
        rotation=20,
        ha="right",
    )
    axes.set_ylabel("value (higher = kept)")
    axes.set_title(
        f"Collateral damage on {benchmark_label(board)}\n"
        "below the Clean line: forgotten though never asked to (bars: 95% CI)",
        loc="left",  # centred over the axes, a title wider than them is cut off on the left
    )
    axes.grid(axis="y", alpha=0.3)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    return figure


def per_identity(board: Leaderboard) -> Figure:
    """The per-identity metric's value per row, with the Clean and Compromised distributions."""
    key = (board.suite or {}).get("per_identity") or ""
    name = metric_name(board, key) if key else "per-identity"
    series = [("Compromised", board.reference_identities["compromised"].get(key, {}))]
    series += [(row.display, row.per_identity.get(key, {})) for row in board.rows]
    series += [("Clean", board.reference_identities["clean"].get(key, {}))]
    series = [(label, values) for label, values in series if values]
    figure, axes = plt.subplots(figsize=(max(6.5, 1.1 * len(series) + 2), 5))
    if not series:
        axes.text(0.5, 0.5, f"no per-identity {name} values in these results", ha="center")
        axes.set_axis_off()
        return figure
    data = [list(values.values()) for _, values in series]
    boxes = axes.boxplot(
        data, patch_artist=True, showfliers=True, widths=0.6, medianprops={"color": "black"}
    )
    for median in boxes["medians"]:
        median.set_gid("median")
    for label, patch in zip((s[0] for s in series), boxes["boxes"], strict=True):
        patch.set_facecolor(
            {"Clean": CLEAN_COLOR, "Compromised": COMPROMISED_COLOR}.get(label, "#9ab3d5")
        )
        patch.set_alpha(0.7)
    axes.set_xticks(
        range(1, len(series) + 1), [label_text(s[0]) for s in series], rotation=20, ha="right"
    )
    info = metric_info(board, key)
    better = "lower" if info.direction == "lower" else "higher"
    axes.set_ylabel(f"{name} per identity ({better} = closer to the target)")
    axes.set_title(
        f"Per-identity {name} on {benchmark_label(board)}\n"
        "(one value per forget identity, averaged over seeds; whiskers 1.5 IQR)"
    )
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    return figure


def robustness(board: Leaderboard) -> Figure:
    """The forgetting metric's gap closed per row, before and after each declared attack."""
    suite = board.suite or {}
    keys = [suite["forgetting"], *(k for k in suite.get("attacks", []) if has_score(board, k))]
    figure, axes = plt.subplots(figsize=(max(6.5, 1.3 * len(board.rows) + 3), 5))
    width = 0.8 / len(keys)
    shades = ("#4c72b0", "#dd8452", "#937860", "#8c8c8c")
    for offset, key in enumerate(keys):
        xs, scores = [], []
        for index, row in enumerate(board.rows):
            cell = row.cells.get(key)
            if cell is not None and cell.score is not None:
                xs.append(index + (offset - (len(keys) - 1) / 2) * width)
                scores.append(cell.score)
        label = metric_name(board, key) if offset else f"{metric_name(board, key)} (no attack)"
        axes.bar(
            xs,
            scores,
            width,
            label=label,
            color=shades[offset % len(shades)],
            edgecolor="black",
            linewidth=0.5,
            hatch="" if offset == 0 else "//",
        )
    axes.axhline(1.0, color=CLEAN_COLOR, linestyle="--", linewidth=1.2, label="Clean (all closed)")
    axes.axhline(0.0, color=COMPROMISED_COLOR, linestyle=":", linewidth=1.2, label="Compromised")
    axes.set_xticks(
        range(len(board.rows)),
        [label_text(row.display) for row in board.rows],
        rotation=20,
        ha="right",
    )
    axes.set_ylabel("share of the Compromised-to-Clean gap closed")
    axes.set_title(
        f"Is the forgetting real? {metric_name(board, keys[0])} under attack on "
        f"{benchmark_label(board)}\n"
        "(each attack is applied to Clean and Compromised too; seeds averaged)",
        loc="left",
    )
    axes.grid(axis="y", alpha=0.3)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    return figure


PLOTS: dict[str, Callable[[Leaderboard], Figure]] = {
    "tradeoff": tradeoff,
    "collateral": collateral,
    "per_identity": per_identity,
    "robustness": robustness,
    "rounds": rounds,
    "fractions": fractions,
}


def drawable(board: Leaderboard) -> list[str]:
    """The plots these results can give: none without a metric suite."""
    suite = board.suite
    if not suite:
        return []
    names = ["tradeoff"]
    if suite.get("collateral"):
        names.append("collateral")
    if suite.get("per_identity"):
        names.append("per_identity")
    if any(has_score(board, key) for key in suite.get("attacks", [])):
        names.append("robustness")
    kinds = {row.sequence["kind"] for row in board.rows if row.sequence}
    if kinds - {"scaled"}:
        names.append("rounds")
    if "scaled" in kinds:
        names.append("fractions")
    return names


def write_plots(
    board: Leaderboard, out_dir: Path, formats: tuple[str, ...] = ("png", "svg")
) -> list[Path]:
    """Every plot in every format under ``out_dir``; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in drawable(board):
        figure = PLOTS[name](board)
        for extension in formats:
            path = out_dir / f"{name}.{extension}"
            figure.savefig(path, dpi=150, metadata=_metadata(extension))
            written.append(path)
        plt.close(figure)
    return written


def svg_text(board: Leaderboard) -> dict[str, str]:
    """Every plot as inline SVG markup (for the HTML leaderboard)."""
    out = {}
    for name in drawable(board):
        figure = PLOTS[name](board)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata=_metadata("svg"))
        plt.close(figure)
        text = buffer.getvalue()
        out[name] = text[text.index("<svg") :]
    return out


def _metadata(extension: str) -> dict[str, str | None]:
    # no creation dates, so the same results give byte-identical plots
    if extension == "svg":
        return {"Date": None}
    if extension == "png":
        return {"Software": None}
    return {}
