"""``validate --strict``: references against the local reference cache."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from harness.evaluation.scoring import normalised_score
from harness.results.strict import check_references
from harness.results.validation import validate_document


def test_references_match_the_cache_they_came_from(compared_results) -> None:
    report = check_references(compared_results[0].document)
    assert report.problems == [] and report.checked == 20 and report.unavailable == 0


def test_a_forged_but_consistent_reference_is_caught(compared_results, tmp_path: Path) -> None:
    document = copy.deepcopy(compared_results[0].document)
    metric = document["metrics"]["1.1"]
    clean = metric["references"]["clean"]
    clean["value"] = clean["value"] * 0.5  # make the method look better
    clean["ci"]["value"] = [clean["value"], clean["value"]]
    compromised = metric["references"]["compromised"]["value"]
    metric["normalized"] = normalised_score("clean", metric["value"], clean["value"], compromised)
    assert validate_document(document) == []  # internally consistent: only --strict can tell
    report = check_references(document)
    assert [path for path, _ in report.problems] == ['$.metrics["1.1"].references.clean.value']
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(document))
    assert CliRunner().invoke(main, ["validate", str(path)]).exit_code == 0
    result = CliRunner().invoke(main, ["validate", "--strict", str(path)])
    assert result.exit_code == 1 and "differs from the cached clean reference" in result.output


def test_references_not_in_the_cache_are_counted_not_failed(compared_results, tmp_path) -> None:
    report = check_references(compared_results[0].document, cache_root=tmp_path)
    assert report.problems == [] and report.checked == 0 and report.unavailable == 20


def test_validate_strict_stays_free_of_torch() -> None:
    import subprocess
    import sys

    modules = "harness.results.strict, harness.cli.validate_cmd"
    code = f"import sys, {modules}; print('torch' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stdout.strip() == "False"  # validate starts fast, even in every worker
