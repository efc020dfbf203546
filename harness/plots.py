"""Plots of a leaderboard (matplotlib, no display needed): PNG and SVG files, or SVG text.

- ``tradeoff``: RetFail gap closed against GenKnow retained, one point per row with its 95%
  interval, Clean and Compromised marked. Top right is the goal.
- ``holdout``: InterIdSim and IntraIdSim per row beside the Clean and Compromised values; below
  the Clean line a method forgot people it was never asked to forget.
- ``retfail_identities``: per-identity RetFail MRR per row (seeds averaged per identity),
  beside the references' distributions.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "salmu-harness"  # stable ids: same results, same SVG

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from harness.leaderboard import GENKNOW, RETFAIL, Leaderboard  # noqa: E402

INTER, INTRA = "2.2", "2.3"
CLEAN_COLOR, COMPROMISED_COLOR = "#2a9d3a", "#c0392b"
#: tab10 without its green and red, which mark Clean and Compromised
METHOD_COLORS = [plt.get_cmap("tab10")(i) for i in (0, 1, 4, 5, 6, 7, 8, 9)]
METHOD_MARKERS = ("o", "s", "D", "^", "v", "P", "h", "<")


def tradeoff(board: Leaderboard) -> Figure:
    """RetFail gap closed (y) against GenKnow retained (x), one point per row."""
    figure, axes = plt.subplots(figsize=(7.5, 5.5))
    clean, compromised = board.references["clean"], board.references["compromised"]
    k_ret, c_ret = compromised.get(RETFAIL), clean.get(RETFAIL)
    k_gen = compromised.get(GENKNOW)
    for index, row in enumerate(board.rows):
        retfail, genknow = row.cells.get(RETFAIL), row.cells.get(GENKNOW)
        if not retfail or not genknow or retfail.score is None or genknow.score is None:
            continue
        yerr = xerr = None
        if retfail.ci and k_ret is not None and c_ret is not None and k_ret != c_ret:
            ends = sorted((k_ret - v) / (k_ret - c_ret) for v in retfail.ci)
            yerr = [[max(retfail.score - ends[0], 0)], [max(ends[1] - retfail.score, 0)]]
        if genknow.ci and k_gen:
            ends = sorted(v / k_gen for v in genknow.ci)
            xerr = [[max(genknow.score - ends[0], 0)], [max(ends[1] - genknow.score, 0)]]
        axes.errorbar(
            genknow.score,
            retfail.score,
            xerr=xerr,
            yerr=yerr,
            fmt=METHOD_MARKERS[index % len(METHOD_MARKERS)],
            color=METHOD_COLORS[index % len(METHOD_COLORS)],
            capsize=3,
            markersize=7,
            label=_text(f"{row.display} (n={retfail.n})"),
        )
    if k_gen and clean.get(GENKNOW) is not None:
        axes.scatter(
            [clean[GENKNOW] / k_gen],
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
    axes.set_xlabel("GenKnow retained (zero-shot accuracy / Compromised's; 1 = kept)")
    axes.set_ylabel("RetFail gap closed (0 = Compromised, 1 = Clean)")
    axes.set_title(f"Forgetting vs utility on {_benchmark(board)}\n(bars: 95% bootstrap CI)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="best")
    figure.tight_layout()
    return figure


def holdout(board: Leaderboard) -> Figure:
    """InterIdSim and IntraIdSim per row, with the Clean and Compromised values as lines."""
    figure, axes = plt.subplots(figsize=(max(6.5, 1.3 * len(board.rows) + 3), 5))
    width = 0.38
    for offset, (key, name, hatch) in enumerate(
        (
            (INTER, "InterIdSim (holdout identities)", ""),
            (INTRA, "IntraIdSim (holdout associations)", "//"),
        )
    ):
        xs, means, errors = [], [], [[], []]
        for index, row in enumerate(board.rows):
            cell = row.cells.get(key)
            if cell is None:
                continue
            xs.append(index + (offset - 0.5) * width)
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
            color="#4c72b0" if offset == 0 else "#8fb0de",
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
        range(len(board.rows)), [_text(row.display) for row in board.rows], rotation=20, ha="right"
    )
    axes.set_ylabel("mean cosine similarity, image vs its sensitive caption")
    axes.set_title(
        f"Holdout collateral on {_benchmark(board)}\n"
        "below the Clean line: over-generalised forgetting (bars: 95% CI)"
    )
    axes.grid(axis="y", alpha=0.3)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    return figure


def retfail_identities(board: Leaderboard) -> Figure:
    """Per-identity RetFail MRR per row, with the Clean and Compromised distributions."""
    series = [("Compromised", board.reference_identities["compromised"].get(RETFAIL, {}))]
    series += [(row.display, row.per_identity.get(RETFAIL, {})) for row in board.rows]
    series += [("Clean", board.reference_identities["clean"].get(RETFAIL, {}))]
    series = [(label, values) for label, values in series if values]
    figure, axes = plt.subplots(figsize=(max(6.5, 1.1 * len(series) + 2), 5))
    if not series:
        axes.text(0.5, 0.5, "no per-identity RetFail values in these results", ha="center")
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
        range(1, len(series) + 1), [_text(s[0]) for s in series], rotation=20, ha="right"
    )
    axes.set_ylabel("RetFail MRR per identity (lower = forgotten)")
    axes.set_title(
        f"Per-identity RetFail on {_benchmark(board)}\n"
        "(one value per forget identity, averaged over seeds; whiskers 1.5 IQR)"
    )
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    return figure


PLOTS: dict[str, Callable[[Leaderboard], Figure]] = {
    "tradeoff": tradeoff,
    "holdout": holdout,
    "retfail_identities": retfail_identities,
}


def write_plots(
    board: Leaderboard, out_dir: Path, formats: tuple[str, ...] = ("png", "svg")
) -> list[Path]:
    """Every plot in every format under ``out_dir``; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in PLOTS.items():
        figure = draw(board)
        for extension in formats:
            path = out_dir / f"{name}.{extension}"
            figure.savefig(path, dpi=150, metadata=_metadata(extension))
            written.append(path)
        plt.close(figure)
    return written


def svg_text(board: Leaderboard) -> dict[str, str]:
    """Every plot as inline SVG markup (for the HTML leaderboard)."""
    out = {}
    for name, draw in PLOTS.items():
        figure = draw(board)
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


def _text(label: str) -> str:
    """A label drawn as written (matplotlib would read ``$...$`` as math)."""
    return label.replace("$", r"\$")


def _benchmark(board: Leaderboard) -> str:
    return f"{board.benchmark['name']} ({board.benchmark['revision']})"
