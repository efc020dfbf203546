"""import-official: the official evaluator's output as a harness result that joins tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.builtin.salmubench.official_import import (
    OFFICIAL_KEYS,
    import_official,
    release_references,
)
from harness.cli import main
from harness.errors import ResultError
from harness.plugins import load_plugins
from harness.reports.comparison import compare_results
from harness.reports.leaderboard import build_leaderboard
from harness.results.files import write_result
from harness.results.loading import load_results
from harness.results.validation import validate_document

#: the official evaluator's output for the released Compromised model (reference page)
COMPROMISED = {
    "efficacy": {
        "1.1_RetFail": {"R@1": 0.101582, "MRR": 0.236102},
        "1.2_AssocStr": {"mean": 0.321542},
        "1.3_ACS": {"acs_accuracy": 0.950965},
        "1.4_IdZSC": {"identity_classification_accuracy": 0.083561},
        "1.5_CoreAssoc": {"mean": 0.182706},
    },
    "utility": {
        "2.1_GenKnow": {"ImageNet1k_Accuracy": -1},
        "2.2_InterIdSim": {"mean": 0.321488},
        "2.3_IntraIdSim": {"mean": 0.321281},
        "2.4_VisIdInt": {"mean": 0.305150},
        "2.5_FragSim": {"mean": 0.280087},
    },
}


@pytest.fixture(scope="module")
def registry():
    return load_plugins(third_party=False)


def write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_the_released_compromised_values_import_as_a_valid_result(registry, tmp_path) -> None:
    path = write(tmp_path / "compromised-official.json", COMPROMISED)
    document = import_official(path, registry, run_id="imported-compromised")
    assert validate_document(document) == []
    assert (
        document["kind"] == "imported" and document["evaluation"]["protocol"]["name"] == "official"
    )
    metrics = document["metrics"]
    assert metrics["1.1"]["value"] == 0.236102 and metrics["1.1"]["values"] == {"r_at_1": 0.101582}
    assert metrics["1.3"]["value"] == 0.950965 and metrics["2.5"]["value"] == 0.280087
    assert metrics["2.1"]["status"] == "skipped" and "-1" in metrics["2.1"]["reason"]
    # references: the official values of the released pair; the Compromised closes no gap
    assert metrics["1.1"]["references"]["clean"]["value"] == 0.000815
    assert metrics["1.1"]["normalized"]["score"] == pytest.approx(0.0)
    assert metrics["2.2"]["normalized"]["score"] == pytest.approx(1.0)
    assert "ci" not in metrics["1.1"] and "per_identity" not in metrics["1.1"]
    # what the file does not say is null and listed, never invented
    assert document["models"]["evaluated"]["sha256"] is None
    assert document["environment"]["precision"] is None and document["started_at"] is None
    assert document["benchmark"]["revision"] == "b76aa3885a696969e51de4786c9f92e8064b4679"
    assert any("hash" in u for u in document["imported"]["unknown"])
    assert document["diagnosis"]["modes"] == ["ineffective_forgetting"]
    assert set(OFFICIAL_KEYS) == set(metrics)


def test_per_row_numbers_are_kept_and_checked(registry, tmp_path) -> None:
    ranks = [1, 2, 4, 1]
    data = json.loads(json.dumps(COMPROMISED))
    data["efficacy"]["1.1_RetFail"] = {
        "R@1": 0.5,
        "MRR": sum(1 / r for r in ranks) / 4,
        "outcomes": ranks,
    }
    data["efficacy"]["1.2_AssocStr"] = {"mean": 0.25, "scores": [0.2, 0.3]}
    document = import_official(write(tmp_path / "a.json", data), registry, run_id="a")
    assert document["metrics"]["1.1"]["per_row"]["rank"] == [1.0, 2.0, 4.0, 1.0]
    assert document["metrics"]["1.1"]["per_row"]["value"] == [1.0, 0.5, 0.25, 1.0]
    assert document["metrics"]["1.2"]["per_row"]["value"] == [0.2, 0.3]
    data["efficacy"]["1.2_AssocStr"]["mean"] = 0.9
    with pytest.raises(ResultError, match=r"rows' mean 0.250000 is not the file's value 0.900000"):
        import_official(write(tmp_path / "b.json", data), registry, run_id="b")


def test_files_that_are_not_official_results_are_refused(registry, tmp_path) -> None:
    with pytest.raises(ResultError, match="not an official evaluator result"):
        import_official(write(tmp_path / "x.json", {"metrics": {}}), registry, run_id="x")
    bad = json.loads(json.dumps(COMPROMISED))
    bad["efficacy"]["1.3_ACS"]["acs_accuracy"] = "high"
    with pytest.raises(ResultError, match=r"1\.3_ACS\.acs_accuracy is 'high'"):
        import_official(write(tmp_path / "y.json", bad), registry, run_id="y")


def test_the_cli_writes_a_result_that_validates(tmp_path) -> None:
    path = write(tmp_path / "compromised-official.json", COMPROMISED)
    runner = CliRunner()
    result = runner.invoke(
        main, ["import-official", str(path), "--label", "released", "--output", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "unknown (left out)" in result.output and "protocol official v1" in result.output
    written = next(tmp_path.glob("imported-released-*/result.json"))
    assert runner.invoke(main, ["validate", str(written)]).exit_code == 0
    refused = runner.invoke(main, ["import-official", str(write(tmp_path / "z.json", {"a": 1}))])
    assert refused.exit_code == 2 and "not an official evaluator result" in refused.output


def as_official(document: dict) -> dict:
    """A harness result in the official evaluator's layout (what it would have written)."""
    out: dict = {"efficacy": {}, "utility": {}}
    for key, spec in OFFICIAL_KEYS.items():
        entry = document["metrics"][key]
        if entry["status"] != "ok":
            out[spec.group][spec.name] = {spec.value: -1}
            continue
        section = {spec.value: entry["value"]}
        for ours, theirs in spec.secondary:
            section[theirs] = entry["values"][ours]
        if spec.per_row and "per_row" in entry:
            section[spec.per_row] = entry["per_row"]["rank" if key == "1.1" else "value"]
        out[spec.group][spec.name] = section
    return out


def reference_file(document: dict, role: str, path: Path) -> Path:
    references = {key: entry["references"][role] for key, entry in document["metrics"].items()}
    return write(path, as_official({"metrics": references}))


def test_an_imported_result_joins_the_leaderboard_and_compare(
    finetune_outcome, registry, tmp_path
) -> None:
    ours = finetune_outcome.document
    official = write(tmp_path / "finetune-official.json", as_official(ours))
    document = import_official(
        official,
        registry,
        label="finetune",
        clean=reference_file(ours, "clean", tmp_path / "clean.json"),
        compromised=reference_file(ours, "compromised", tmp_path / "compromised.json"),
        benchmark=ours["benchmark"]["name"],
        revision=ours["benchmark"]["revision"],
        run_id="imported-finetune",
    )
    imported = write_result(tmp_path / "imported" / "result.json", document)
    results = load_results([finetune_outcome.result_path, imported])
    assert len(results.results) == 2 and results.excluded == []
    board = build_leaderboard(results)
    labels = [row.display for row in board.rows]
    assert "official:finetune (imported)" in labels
    rows = {row.display: row for row in board.rows}
    assert rows["official:finetune (imported)"].cells["1.1"].mean == pytest.approx(
        ours["metrics"]["1.1"]["value"], abs=1e-6
    )
    comparison = compare_results(ours, document, resamples=200)
    by_key = {m.key: m for m in comparison.metrics}
    assert by_key["1.1"].unit == "row" and by_key["1.1"].difference == pytest.approx(0, abs=1e-6)
    assert "1.3" in comparison.skipped  # the file holds no per-row numbers for ACS
    plotted = CliRunner().invoke(
        main,
        ["plot", str(finetune_outcome.result_path), str(imported), "--out", str(tmp_path / "p")],
    )
    assert plotted.exit_code == 0, plotted.output
    assert len(list((tmp_path / "p").glob("*.png"))) == 3


def test_release_references_are_the_reference_page_values() -> None:
    clean, compromised, release = release_references()
    assert clean["efficacy"]["1.1_RetFail"]["MRR"] == 0.000815
    assert compromised["efficacy"]["1.3_ACS"]["acs_accuracy"] == 0.950965
    assert release["models"]["compromised"]["revision"].startswith("230b1b4")
