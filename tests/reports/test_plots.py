"""Plots from real runs: the points drawn are the leaderboard's numbers; files are stable."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pytest

from harness.reports.leaderboard import Cell, MetricInfo, build_leaderboard
from harness.reports.plots import (
    collateral,
    drawable,
    per_identity,
    robustness,
    tradeoff,
    write_plots,
)
from harness.results.loading import load_results


@pytest.fixture(scope="module")
def board(compared_results):
    return build_leaderboard(load_results([o.result_path for o in compared_results]))


def test_tradeoff_points_are_the_normalised_means(board) -> None:
    figure = tradeoff(board)
    drawn = {
        bars.get_label(): (bars.lines[0].get_xdata()[0], bars.lines[0].get_ydata()[0])
        for bars in figure.axes[0].containers
    }
    for row in board.rows:
        x, y = drawn[f"{row.display} (n=3)"]
        assert x == pytest.approx(row.cells["2.1"].score) and y == pytest.approx(
            row.cells["1.1"].score
        )
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert "Clean (target)" in labels and "Compromised (start)" in labels
    assert "GenKnow retained" in figure.axes[0].get_xlabel()


def test_collateral_bars_and_reference_lines(board) -> None:
    axes = collateral(board).axes[0]
    heights = sorted(round(p.get_height(), 9) for p in axes.patches)
    expected = sorted(round(r.cells[k].mean, 9) for r in board.rows for k in ("2.2", "2.3"))
    assert heights == expected
    lines = {round(line.get_ydata()[0], 9) for line in axes.lines if len(line.get_ydata()) == 2}
    assert round(board.references["clean"]["2.2"], 9) in lines


def test_the_collateral_title_stays_inside_the_figure(board) -> None:
    figure = collateral(board)
    figure.canvas.draw()
    axes = figure.axes[0]
    title = next(t for t in (axes.title, axes._left_title) if t.get_text())
    box = title.get_window_extent(figure.canvas.get_renderer())
    assert box.x0 >= 0 and box.x1 <= figure.bbox.width  # not cut off on either side


def test_per_identity_distribution_has_references_and_rows(board) -> None:
    axes = per_identity(board).axes[0]
    ticks = [t.get_text() for t in axes.get_xticklabels()]
    assert ticks == ["Compromised", *[r.display for r in board.rows], "Clean"]
    # one median line per box, at the median of that row's per-identity values
    medians = [line.get_ydata()[0] for line in axes.lines if line.get_gid() == "median"]
    expected = [np.median(list(board.reference_identities["compromised"]["1.1"].values()))]
    expected += [np.median(list(r.per_identity["1.1"].values())) for r in board.rows]
    expected += [np.median(list(board.reference_identities["clean"]["1.1"].values()))]
    assert medians == pytest.approx(expected)


def test_files_are_written_readable_and_reproducible(board, tmp_path) -> None:
    written = write_plots(board, tmp_path / "a")
    assert sorted(p.name for p in written) == sorted(
        f"{n}.{e}" for n in ("tradeoff", "collateral", "per_identity") for e in ("png", "svg")
    )
    image = matplotlib.image.imread(tmp_path / "a" / "tradeoff.png")
    assert image.ndim == 3 and image.shape[0] > 500 and np.ptp(image) > 0
    again = write_plots(board, tmp_path / "b", formats=("svg",))
    for path in again:
        assert path.read_bytes() == (tmp_path / "a" / path.name).read_bytes()


def test_results_without_per_identity_values_still_plot(board) -> None:
    import copy

    bare = copy.deepcopy(board)
    for row in bare.rows:
        row.per_identity = {}
    bare.reference_identities = {"clean": {}, "compromised": {}}
    texts = [t.get_text() for t in per_identity(bare).axes[0].texts]
    assert texts == ["no per-identity RetFail values in these results"]


def test_the_plots_follow_the_results_suite_and_need_one(board, tmp_path) -> None:
    import copy

    assert board.suite["forgetting"] == "1.1" and board.suite["collateral"] == ["2.2", "2.3"]
    swapped = copy.deepcopy(board)
    swapped.suite = {**board.suite, "forgetting": "1.2"}  # plot AssocStr instead of RetFail
    figure = tradeoff(swapped)
    assert "AssocStr gap closed" in figure.axes[0].get_ylabel()
    bare = copy.deepcopy(board)
    bare.suite = None
    assert write_plots(bare, tmp_path / "none") == []


def test_results_written_before_suites_were_recorded_still_plot(compared_results, tmp_path):
    import json

    from click.testing import CliRunner

    from harness.cli import main

    for index, outcome in enumerate(compared_results):
        document = json.loads(outcome.result_path.read_text())
        del document["suite"]
        (tmp_path / f"{index}.json").write_text(json.dumps(document))
    result = CliRunner().invoke(main, ["plot", str(tmp_path), "--out", str(tmp_path / "plots")])
    assert result.exit_code == 0, result.output
    assert sorted(p.stem for p in (tmp_path / "plots").glob("*.png")) == [
        "collateral",
        "per_identity",
        "tradeoff",
    ]


def test_robustness_bars_are_the_gap_closed_before_and_under_attack(board) -> None:
    import copy

    assert "robustness" not in drawable(board)  # these results hold no attack
    attacked = copy.deepcopy(board)
    attacked.suite = {**board.suite, "attacks": ["3.1", "3.2"]}
    attacked.metrics = [
        *board.metrics,
        MetricInfo("3.1", "Relearn", "robustness", "lower", "clean"),
    ]
    for index, row in enumerate(attacked.rows):
        row.cells["3.1"] = Cell(mean=0.1, std=0.0, n=3, score=0.25 * index)
    assert "robustness" in drawable(attacked)
    axes = robustness(attacked).axes[0]
    labels = [t.get_text() for t in axes.get_legend().get_texts()]
    assert labels[:2] == ["Clean (all closed)", "Compromised"]
    assert labels[2:] == ["RetFail (no attack)", "Relearn"]  # 3.2 absent: no bars for it
    heights = [round(p.get_height(), 9) for p in axes.patches]
    rows = attacked.rows
    assert heights == [round(r.cells["1.1"].score, 9) for r in rows] + [
        round(0.25 * i, 9) for i in range(len(rows))
    ]
