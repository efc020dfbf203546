"""Run bundles: what they hold, and `verify` on intact and tampered bundles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.results.bundle import MANIFEST, check_manifest, verify_bundle, write_bundle
from harness.storage import file_sha256


@pytest.fixture
def bundle(compared_results, tmp_path: Path) -> Path:
    source = compared_results[0].result_path.parent
    return Path(shutil.copytree(source, tmp_path / source.name))


def test_a_bundle_holds_config_versions_and_a_manifest_of_every_file(bundle: Path) -> None:
    manifest = json.loads((bundle / MANIFEST).read_text())["files"]
    assert sorted(manifest) == [
        "config.json",
        "model/README.md",
        "model/open_clip_config.json",
        "model/open_clip_model.safetensors",
        "model/salmu_training.json",
        "result.json",
        "run.log",
        "versions.txt",
    ]
    assert manifest["result.json"]["sha256"] == file_sha256(bundle / "result.json")
    versions = (bundle / "versions.txt").read_text().splitlines()
    assert versions[0].startswith("salmu-harness==") and any(
        line.startswith("salmu-baselines==") for line in versions
    )
    config = json.loads((bundle / "config.json").read_text())
    assert config["method"] == "finetune" and config["parameters"]["lr"] == 1e-4
    assert config["evaluation"]["bootstrap"]["resamples"] == 1000
    assert config["protocol"] == "official"


def test_an_intact_bundle_verifies_with_identical_numbers(bundle: Path) -> None:
    report = verify_bundle(bundle, show_progress=False, num_workers=0)
    assert report.ok, report.problems
    assert report.evaluated and report.files_checked == 8
    # 3 models x (10 values + RetFail's r_at_1 and gallery_std)
    assert report.numbers_compared == 36
    assert report.largest_difference == 0.0


def test_changed_weights_fail(bundle: Path) -> None:
    weights = bundle / "model" / "open_clip_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    problems, _ = check_manifest(bundle)
    assert problems == [
        "model/open_clip_model.safetensors: sha256 differs from the manifest (the file was changed)"
    ]
    report = verify_bundle(bundle, show_progress=False)
    assert not report.ok and not report.evaluated
    assert any("is not the one the result declares" in p for p in report.problems)


def test_an_edited_result_fails_even_with_a_rewritten_manifest(bundle: Path) -> None:
    result = json.loads((bundle / "result.json").read_text())
    metric = result["metrics"]["2.1"]
    metric["value"] += 0.001  # small enough to stay valid: a forged GenKnow
    metric["ci"]["value"] = [metric["ci"]["value"][0], metric["ci"]["value"][1] + 0.001]
    metric["normalized"]["score"] = metric["value"] / metric["references"]["compromised"]["value"]
    (bundle / "result.json").write_text(json.dumps(result))
    assert check_manifest(bundle)[0] == [
        "result.json: sha256 differs from the manifest (the file was changed)"
    ]
    write_bundle(bundle, result, ["salmu-baselines"])  # the forger also rewrites the manifest
    report = verify_bundle(bundle, show_progress=False, num_workers=0)
    assert [p.split(":")[0] for p in report.problems] == ['$.metrics["2.1"].value']
    assert "re-evaluation gives" in report.problems[0]


def test_missing_and_added_files_fail(bundle: Path) -> None:
    (bundle / "versions.txt").unlink()
    (bundle / "notes.txt").write_text("hello")
    problems, _ = check_manifest(bundle)
    assert problems == [
        "versions.txt: listed in the manifest but missing",
        "notes.txt: not in the manifest (a file was added)",
    ]


def test_cli_verify_exit_codes(bundle: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["verify", str(bundle), "--no-evaluate"])
    assert result.exit_code == 0 and "verified" in result.output
    (bundle / "config.json").write_text("{}")
    result = CliRunner().invoke(main, ["verify", str(bundle), "--no-evaluate"])
    assert result.exit_code == 1
    assert "FAIL config.json: sha256 differs" in result.output and "NOT verified" in result.output
    plain = tmp_path / "plain"
    plain.mkdir()
    result = CliRunner().invoke(main, ["verify", str(plain), "--no-evaluate"])
    assert result.exit_code == 1 and "this is not a bundle" in result.output


def test_a_malformed_manifest_is_a_problem_not_a_crash(bundle: Path) -> None:
    (bundle / MANIFEST).write_text(json.dumps({"files": ["result.json"]}))
    problems, checked = check_manifest(bundle)
    assert checked == 0 and "this is not a bundle" in problems[0]


def test_a_bundle_from_before_protocols_is_not_re_evaluated(bundle: Path) -> None:
    document = json.loads((bundle / "result.json").read_text())
    del document["evaluation"]["protocol"]
    (bundle / "result.json").write_text(json.dumps(document))
    write_bundle(bundle, document, ["salmu-baselines"])
    report = verify_bundle(bundle, show_progress=False, num_workers=0)
    assert not report.evaluated
    assert any("before evaluation protocols existed" in p for p in report.problems)
