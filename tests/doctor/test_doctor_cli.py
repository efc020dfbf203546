"""``salmu-harness doctor``: the table, the exit code and the JSON schema."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from harness.storage import first_schema_error


def test_json_validates_and_problems_exit_1() -> None:
    # the test session is offline (HF_HUB_OFFLINE=1) with an empty hub cache
    result = CliRunner().invoke(main, ["doctor", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert first_schema_error("doctor.schema.json", report) is None
    assert report["ok"] is False and report["benchmark"] == "salmubench"
    groups = {c["group"] for c in report["checks"]}
    assert groups == {"software", "hardware", "hub", "disk", "genknow", "plugins", "caches"}
    problems = [c for c in report["checks"] if c["status"] == "problem"]
    assert {c["name"].split(" ")[0] for c in problems} >= {"dataset", "compromised", "clean"}
    assert all(c["fix"] for c in problems)
    assert report["counts"]["problem"] == len(problems)


def test_with_local_copies_the_hub_is_not_a_problem(mini_root: Path) -> None:
    options = [
        f"dataset={mini_root / 'dataset'}",
        f"compromised={mini_root / 'models' / 'compromised'}",
        f"clean={mini_root / 'models' / 'clean'}",
    ]
    args = ["doctor", "--json"] + [a for o in options for a in ("--benchmark-option", o)]
    report = json.loads(CliRunner().invoke(main, args).output)
    hub = [c for c in report["checks"] if c["group"] == "hub"]
    assert [c["status"] for c in hub] == ["ok"] * 4


def test_the_table_names_each_problem_with_its_fix() -> None:
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 1
    assert "PROBLEM" in result.output and "-> download it where there is internet" in result.output
    assert "problems," in result.output.splitlines()[-1]


def test_an_unknown_benchmark_option_is_refused() -> None:
    result = CliRunner().invoke(main, ["doctor", "--benchmark-option", "imagenett=x"])
    assert result.exit_code == 2
    assert "salmubench has no option 'imagenett'" in result.output


def test_other_benchmarks_skip_the_hub() -> None:
    report = json.loads(
        CliRunner().invoke(main, ["doctor", "--benchmark", "mini", "--json"]).output
    )
    assert [c["detail"] for c in report["checks"] if c["group"] == "hub"] == [
        "mini is not read from the Hugging Face hub"
    ]
    assert not [c for c in report["checks"] if c["group"] == "disk"]


def test_a_truncated_local_shard_is_a_problem_row(mini_root: Path, tmp_path: Path) -> None:
    import shutil

    dataset = tmp_path / "dataset"
    shutil.copytree(mini_root / "dataset", dataset)
    shard = next((dataset / "data").glob("forget-*.parquet"))
    shard.write_bytes(shard.read_bytes()[:100])
    result = CliRunner().invoke(
        main, ["doctor", "--json", "--benchmark-option", f"dataset={dataset}"]
    )
    report = json.loads(result.output)
    (row,) = [c for c in report["checks"] if c["group"] == "disk"]
    assert row["status"] == "problem" and f"{shard} cannot be read" in row["detail"]
    assert row["fix"] == "the download may be truncated: download the dataset again"
