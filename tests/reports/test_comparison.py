"""Paired comparison: per-identity differences, the paired bootstrap, significance, winner."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.errors import ResultError
from harness.reports.comparison import compare_results


def by_run(compared_results, run_id: str) -> dict:
    return next(o.document for o in compared_results if o.document["run_id"] == run_id)


def test_differences_are_paired_by_identity(compared_results) -> None:
    a, b = by_run(compared_results, "finetune-seed0"), by_run(compared_results, "neggrad-seed0")
    comparison = compare_results(a, b, resamples=2000)
    retfail = next(m for m in comparison.metrics if m.key == "1.1")
    ids_a, ids_b = a["metrics"]["1.1"]["per_identity"], b["metrics"]["1.1"]["per_identity"]
    expected = np.mean([ids_b[i] - ids_a[i] for i in ids_a])
    assert retfail.unit == "identity" and retfail.units == len(ids_a)
    assert retfail.difference == pytest.approx(expected, abs=1e-12)
    some = sorted(ids_a)[0]
    assert retfail.per_identity[some] == pytest.approx(ids_b[some] - ids_a[some], abs=1e-6)
    assert retfail.ci[0] <= retfail.difference <= retfail.ci[1]
    assert retfail.significant == (not retfail.ci[0] <= 0 <= retfail.ci[1])
    genknow = next(m for m in comparison.metrics if m.key == "2.1")
    assert genknow.unit == "row" and genknow.units == len(a["metrics"]["2.1"]["per_row"]["value"])
    assert {m.key for m in comparison.metrics} | set(comparison.skipped) == set(a["metrics"])


def test_a_result_against_itself_shows_no_difference(compared_results) -> None:
    a = compared_results[0].document
    for metric in compare_results(a, copy.deepcopy(a), resamples=500).metrics:
        assert metric.difference == 0 and metric.ci == (0.0, 0.0)
        assert not metric.significant and metric.better == "neither (not significant)"


def test_a_clear_improvement_is_significant_and_follows_the_direction(compared_results) -> None:
    a = compared_results[0].document
    b = copy.deepcopy(a)
    for key in ("1.1", "2.2"):
        ids = b["metrics"][key]["per_identity"]
        b["metrics"][key]["per_identity"] = {i: v - 0.05 for i, v in ids.items()}
    comparison = {m.key: m for m in compare_results(a, b, resamples=1000).metrics}
    assert comparison["1.1"].difference == pytest.approx(-0.05)
    assert comparison["1.1"].significant and comparison["1.1"].better == "B"  # lower is better
    assert comparison["2.2"].significant and comparison["2.2"].better == "A"  # higher is better


def test_the_bootstrap_is_seeded(compared_results) -> None:
    a, b = compared_results[0].document, compared_results[3].document
    first = compare_results(a, b, resamples=500, seed=3).to_json()
    assert first == compare_results(a, b, resamples=500, seed=3).to_json()
    assert first != compare_results(a, b, resamples=500, seed=4).to_json()


def test_incomparable_results_are_refused(compared_results) -> None:
    a = compared_results[0].document
    b = copy.deepcopy(a)
    b["benchmark"]["splits"]["forget"]["sha256"] = "0" * 64
    with pytest.raises(ResultError, match="split 'forget' has different content"):
        compare_results(a, b)


def test_cli_prints_the_table_and_json(compared_results) -> None:
    a, b = (str(compared_results[i].result_path) for i in (0, 3))
    result = CliRunner().invoke(main, ["compare", a, b, "--resamples", "500"])
    assert result.exit_code == 0, result.output
    assert "1.1 RetFail" in result.output and "paired percentile bootstrap" in result.output
    data = json.loads(
        CliRunner().invoke(main, ["compare", a, b, "--resamples", "500", "--format", "json"]).output
    )
    assert data["bootstrap"]["resamples"] == 500 and len(data["metrics"]) == 10


def test_failed_results_are_refused(compared_results) -> None:
    a = compared_results[0].document
    failed = copy.deepcopy(a)
    failed.update(status="failed", error={"type": "X", "message": "boom", "hint": None})
    with pytest.raises(ResultError, match=r"result B is a failed run \(boom\)"):
        compare_results(a, failed)


def test_metrics_only_in_one_result_or_at_other_versions_are_skipped(compared_results) -> None:
    a = compared_results[0].document
    b = copy.deepcopy(compared_results[3].document)
    b["metrics"]["attrleak"] = {**copy.deepcopy(b["metrics"]["1.2"]), "version": "0.2.0"}
    b["metrics"]["1.3"]["version"] = "99"
    del b["metrics"]["2.5"]
    comparison = compare_results(a, b, resamples=200)
    assert comparison.skipped["attrleak"] == "only in B"
    assert comparison.skipped["2.5"] == "only in A"
    assert comparison.skipped["1.3"] == f"version {a['metrics']['1.3']['version']} in A, 99 in B"
    assert {m.key for m in comparison.metrics} == set(a["metrics"]) - {"1.3", "2.5"}
