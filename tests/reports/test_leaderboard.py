"""Leaderboards from real runs on the test mini: the numbers in every format."""

from __future__ import annotations

import copy
import csv
import io
import json
import statistics
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.reports.formats import RENDERERS
from harness.reports.leaderboard import build_leaderboard
from harness.results.loading import load_results
from tests.conftest import COMPARED_METHODS, COMPARED_SEEDS


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def documents_of(compared_results, method: str) -> list[dict]:
    return [o.document for o in compared_results if o.document["method"]["name"] == method]


@pytest.fixture(scope="module")
def board(compared_results):
    return build_leaderboard(load_results([o.result_path for o in compared_results]))


def test_one_row_per_method_with_seeds_aggregated(board, compared_results) -> None:
    assert [row.label for row in board.rows] == sorted(COMPARED_METHODS)
    for row in board.rows:
        docs = documents_of(compared_results, row.label)
        assert row.seeds == list(COMPARED_SEEDS) and row.budget == 1.0
        for key, cell in row.cells.items():
            values = [d["metrics"][key]["value"] for d in docs]
            scores = [d["metrics"][key]["normalized"]["score"] for d in docs]
            assert cell.n == 3
            assert cell.mean == pytest.approx(statistics.fmean(values), abs=1e-12)
            assert cell.std == pytest.approx(statistics.stdev(values), abs=1e-12)
            assert cell.score == pytest.approx(statistics.fmean(scores), abs=1e-12)
        modes = Counter(m for d in docs for m in d["diagnosis"]["modes"])
        assert row.diagnosis == dict(modes)


def test_reference_rows_are_the_results_references(board, compared_results) -> None:
    first = compared_results[0].document["metrics"]
    for role in ("clean", "compromised"):
        assert board.references[role] == {
            k: m["references"][role]["value"] for k, m in first.items()
        }


def test_csv_carries_every_number(board, compared_results) -> None:
    rows = list(csv.DictReader(io.StringIO(RENDERERS["csv"](board))))
    assert [r["row"] for r in rows] == ["Clean", "Compromised", *sorted(COMPARED_METHODS)]
    neggrad = next(r for r in rows if r["row"] == "neggrad")
    docs = documents_of(compared_results, "neggrad")
    retfail = [d["metrics"]["1.1"]["value"] for d in docs]
    assert float(neggrad["1.1_mean"]) == pytest.approx(statistics.fmean(retfail), abs=1e-12)
    assert float(neggrad["1.1_std"]) == pytest.approx(statistics.stdev(retfail), abs=1e-12)
    assert neggrad["n"] == "3" and neggrad["seeds"] == "0 1 2" and neggrad["budget"] == "1"
    assert json.loads(neggrad["parameters"])["lr"] == 1e-4
    assert float(rows[0]["2.1_mean"]) == board.references["clean"]["2.1"]


def test_markdown_and_table_show_mean_spread_and_score(board) -> None:
    cell = board.rows[0].cells["1.1"]
    expected = f"{cell.mean:.3f} ±{cell.std:.3f} ({cell.score:.0%})"
    for name in ("md", "table"):
        text = RENDERERS[name](board)
        assert expected in text and "Compromised" in text and "1.1 RetFail ↓" in text
    assert "| finetune" in RENDERERS["md"](board)


def test_json_round_trips_the_rows(board) -> None:
    data = json.loads(RENDERERS["json"](board))
    assert [r["label"] for r in data["rows"]] == sorted(COMPARED_METHODS)
    assert data["rows"][1]["metrics"]["1.1"]["mean"] == board.rows[1].cells["1.1"].mean


def test_html_is_self_contained_and_sortable(board) -> None:
    page = RENDERERS["html"](board)
    assert page.count("<svg") == 3 and 'id="board"' in page and "addEventListener" in page
    assert "<script src" not in page and "<link" not in page
    assert f'data-sort="{board.rows[0].cells["1.1"].mean}"' in page


def test_sort_by_metric_puts_the_best_first(compared_results) -> None:
    loaded = load_results([o.result_path for o in compared_results])
    by_retfail = build_leaderboard(loaded, sort="RetFail")
    means = [row.cells["1.1"].mean for row in by_retfail.rows]
    assert means == sorted(means)  # lower is better
    by_genknow = build_leaderboard(loaded, sort="2.1")
    means = [row.cells["2.1"].mean for row in by_genknow.rows]
    assert means == sorted(means, reverse=True)  # higher is better


def test_incomparable_failed_and_repeated_results_are_left_out(
    compared_results, tmp_path: Path
) -> None:
    other_revision = copy.deepcopy(compared_results[0].document)
    other_revision["benchmark"]["revision"] = "another-revision"
    failed = copy.deepcopy(compared_results[1].document)
    failed.update(status="failed", error={"type": "X", "message": "boom", "hint": None})
    failed["metrics"] = {}
    repeated = copy.deepcopy(compared_results[2].document)
    repeated["finished_at"] = "2000-01-01T00:00:00+00:00"
    legacy = copy.deepcopy(compared_results[0].document)
    del legacy["evaluation"]["protocol"]  # as written before protocols existed
    variant = copy.deepcopy(compared_results[0].document)
    variant["evaluation"]["protocol"]["choices"]["retfail"]["ties"] = "half"
    extra = {
        "revision.json": other_revision,
        "failed.json": failed,
        "old.json": repeated,
        "legacy.json": legacy,
        "variant.json": variant,
    }
    for name, doc in extra.items():
        (tmp_path / name).write_text(json.dumps(doc))
    (tmp_path / "junk.json").write_text("{")
    paths = [o.result_path for o in compared_results] + sorted(tmp_path.glob("*.json"))
    board = build_leaderboard(load_results(paths))
    reasons = {Path(e.path).name: e.reason for e in board.excluded}
    assert "revision another-revision" in reasons["revision.json"]
    assert reasons["failed.json"] == "failed run: boom"
    assert reasons["old.json"].startswith("seed 2 repeated")
    assert reasons["junk.json"].startswith("invalid:")
    assert "protocol salmu-harness v1 (the table uses official v1)" in reasons["legacy.json"]
    assert (
        "protocol official v1 (the table uses official v1, other choices)"
        in (reasons["variant.json"])
    )
    assert [len(r.seeds) for r in board.rows] == [3] * len(COMPARED_METHODS)


def test_cli_writes_the_file_and_reports_what_it_left_out(compared_results, tmp_path) -> None:
    folder = compared_results[0].result_path.parent.parent
    out = tmp_path / "board.csv"
    result = invoke("leaderboard", str(folder), "--format", "csv", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines()[0].startswith("row,method,parameters")
    assert "left out" not in result.output  # bundle files inside run folders are not results
    result = invoke("leaderboard", str(folder), "--sort", "RetFial")
    assert result.exit_code == 2 and "did you mean 'RetFail'?" in result.output
    result = invoke("leaderboard", str(tmp_path / "nothing.json"))
    assert result.exit_code == 2 and "no valid, successful result" in result.output


def test_results_are_compared_on_the_metrics_they_share(compared_results, tmp_path: Path) -> None:
    """A later result with one extra metric, and one with another version of a metric, stay in
    the table: the extra column is blank for the others, the other version blank, with notes."""
    extra = copy.deepcopy(compared_results[0].document)
    extra["run_id"] = "with-extra-metric"
    extra["seeds"]["run"] = 99
    extra["metrics"]["attrleak"] = {
        **copy.deepcopy(extra["metrics"]["1.2"]),
        "key": "attrleak",
        "name": "AttrLeak",
        "version": "0.2.0",
    }
    bumped = copy.deepcopy(compared_results[1].document)
    bumped["run_id"] = "with-other-version"
    bumped["seeds"]["run"] = 98
    bumped["metrics"]["1.3"]["version"] = "99"
    for name, document in (("extra.json", extra), ("bumped.json", bumped)):
        (tmp_path / name).write_text(json.dumps(document))
    paths = [o.result_path for o in compared_results] + sorted(tmp_path.glob("*.json"))
    board = build_leaderboard(load_results(paths))
    assert not [e for e in board.excluded if "not comparable" in e.reason]
    assert [m.key for m in board.metrics][-1] == "attrleak"
    with_extra = next(r for r in board.rows if 99 in r.seeds)
    assert "attrleak" in with_extra.cells
    assert sum("attrleak" in r.cells for r in board.rows) == 1
    with_bumped = next(r for r in board.rows if 98 in r.seeds)
    assert with_bumped.cells["1.3"].n == len(with_bumped.seeds) - 1  # its 1.3 is left blank
    assert any(
        n.startswith("attrleak AttrLeak: compared at version 0.2.0 in 1 of") for n in board.notes
    )
    assert any("1.3 ACS" in n and "blank where it is version 99" in n for n in board.notes)
    text = RENDERERS["table"](board)
    assert "not in every result: attrleak AttrLeak" in text
    assert "Not in every result" in RENDERERS["html"](board)
