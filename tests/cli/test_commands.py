"""The CLI: listing, validating and showing results, and its error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_metrics_lists_the_suite() -> None:
    result = invoke("metrics", "--json")
    assert result.exit_code == 0
    assert [m["key"] for m in json.loads(result.output)][:3] == ["1.1", "1.2", "1.3"]


def test_plugins_json_marks_builtins() -> None:
    records = json.loads(invoke("plugins", "--json").output)
    assert records[0]["builtin"] and records[0]["status"] == "ok"


def test_unknown_method_and_command_suggest() -> None:
    result = invoke("methods", "finetun")
    assert result.exit_code == 2 and "unknown method 'finetun'" in result.output
    result = invoke("evalute", "x")
    assert result.exit_code == 2 and "did you mean 'evaluate'" in result.output


def test_validate_accepts_harness_results_and_rejects_others(
    finetune_outcome, tmp_path: Path
) -> None:
    good = str(finetune_outcome.result_path)
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": "1.0"')
    result = invoke("validate", good)
    assert result.exit_code == 0 and "1 valid, 0 invalid" in result.output
    result = invoke("validate", good, str(bad))
    assert (
        result.exit_code == 1
        and f"{bad}: $: not valid JSON (the file is truncated)" in result.output
    )
    report = json.loads(invoke("validate", "--json", str(bad)).output)
    assert report["valid"] is False and report["files"][0]["problems"][0]["path"] == "$"


def test_show_prints_each_metric_beside_its_references(finetune_outcome) -> None:
    result = invoke("show", str(finetune_outcome.result_path))
    assert result.exit_code == 0
    retfail = finetune_outcome.document["metrics"]["1.1"]
    line = next(line for line in result.output.splitlines() if "RetFail" in line)
    assert f"{retfail['value']:.4f}" in line
    assert f"{retfail['references']['clean']['value']:.4f}" in line
    assert f"{retfail['references']['compromised']['value']:.4f}" in line


def test_show_refuses_an_invalid_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = invoke("show", str(bad))
    assert result.exit_code == 2 and "'schema_version' is a required property" in result.output


def test_bad_set_syntax_is_a_clear_error() -> None:
    result = invoke("run", "finetune", "--set", "lr")
    assert result.exit_code == 2 and "--set 'lr' is not of the form key=value" in result.output


def test_benchmark_errors_exit_non_zero_with_one_message(mini_root: Path) -> None:
    checkpoint = str(mini_root / "models" / "clean")
    result = invoke("evaluate", checkpoint, "--benchmark", "salmubench")  # HF_HUB_OFFLINE=1
    assert result.exit_code == 2
    assert "not in the local cache and the hub cannot be reached" in result.output
    assert "hint: download it where there is internet" in result.output
    result = invoke(
        "evaluate",
        checkpoint,
        "--benchmark",
        "salmubench",
        "--benchmark-option",
        f"dataset={mini_root}",
    )
    assert result.exit_code == 2
    assert "metadata file identities_metadata.json is missing" in result.output
    result = invoke("evaluate", checkpoint, "--benchmark", "minni")
    assert result.exit_code == 2 and "did you mean 'mini'" in result.output


def test_validate_expands_directories_and_globs(finetune_outcome, tmp_path: Path) -> None:
    import shutil

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        shutil.copy(finetune_outcome.result_path, tmp_path / name / "result.json")
    result = invoke("validate", str(tmp_path))
    assert result.exit_code == 0 and "2 valid, 0 invalid" in result.output
    result = invoke("validate", str(tmp_path / "*" / "result.json"))
    assert result.exit_code == 0 and "2 valid, 0 invalid" in result.output
    result = invoke("validate", str(tmp_path / "nothing-*.json"))
    assert result.exit_code == 2 and "no result files matched" in result.output


def test_validate_github_annotations(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = invoke("validate", "--format", "github", str(bad))
    assert result.exit_code == 1
    assert (
        f"::error file={bad},title=invalid result::$: 'schema_version' is a required"
        in result.output
    )


def test_every_subcommand_is_documented() -> None:
    from harness.cli import SUBCOMMANDS

    docs = "\n".join(p.read_text() for p in (Path(__file__).parents[2] / "docs").glob("*.md"))
    missing = [name for name in SUBCOMMANDS if f"salmu-harness {name}" not in docs]
    assert missing == [], f"subcommands without docs: {missing}"


def test_validate_folders_skip_only_the_harness_files_of_run_folders(
    finetune_outcome, tmp_path: Path
) -> None:
    import shutil

    run = Path(shutil.copytree(finetune_outcome.result_path.parent, tmp_path / "run"))
    (run / "config.json").write_text("{}")  # a bundle's configuration: not a result
    (run / "extra-seed1.json").write_text(finetune_outcome.result_path.read_text())
    (tmp_path / "stray.json").write_text("{}")
    result = invoke("validate", "--format", "json", str(tmp_path))
    checked = sorted(Path(f["file"]).name for f in json.loads(result.output)["files"])
    assert checked == ["extra-seed1.json", "result.json", "stray.json"]
    assert result.exit_code == 1  # stray.json is not a result


def test_config_files_must_parse_to_a_mapping(tmp_path: Path) -> None:
    from harness.cli.options import read_config

    listing = tmp_path / "config.yaml"
    listing.write_text("- lr: 1e-5\n")
    result = invoke("evaluate", str(tmp_path), "--config", str(listing))
    assert result.exit_code == 2 and "must hold a mapping of settings" in result.output
    good = tmp_path / "good.yaml"
    good.write_text("parameters: {lr: 1e-5}\nseed: 3\n")
    assert read_config(good) == {"parameters": {"lr": 1e-5}, "seed": 3}
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    result = invoke("evaluate", str(tmp_path), "--config", str(broken))
    assert result.exit_code == 2 and "cannot be parsed" in result.output


def test_protocols_lists_both_and_explains_each_choice(tmp_path: Path) -> None:
    listed = json.loads(invoke("protocols", "--json").output)
    assert [p["name"] for p in listed] == ["official", "salmu-harness"]
    table = invoke("protocols")
    assert table.exit_code == 0 and "retfail.ties" in table.output
    assert "official v1 (default, salmu-harness)" in table.output
    shown = invoke("protocols", "official")
    assert "quoted" in shown.output and "unknown" in shown.output and "inferred" in shown.output
    wrong = invoke("protocols", "oficial")
    assert wrong.exit_code == 2 and "did you mean 'official'" in wrong.output
    document = listed[0]
    document["choices"]["retfail"]["ties"] = "sometimes"
    bad = tmp_path / "bad-protocol.json"
    bad.write_text(json.dumps(document))
    refused = invoke("protocols", str(bad))
    assert refused.exit_code == 2
    assert "is not a valid evaluation protocol: at choices.retfail.ties" in refused.output
    document["choices"]["retfail"]["ties"] = "half"
    document["name"] = "my-protocol"
    good = tmp_path / "my-protocol.json"
    good.write_text(json.dumps(document))
    assert "my-protocol v1 (file)" in invoke("protocols", str(good)).output


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["run", "finetune", "--output", "{bad}"], "--output"),
        (["evaluate", "{result}", "--output", "{bad}"], "--output"),
        (["import-official", "{result}", "--output", "{bad}"], "--output"),
        (["new-plugin", "foo", "--output", "{bad}"], "--output"),
        (["plot", "{result}", "--out", "{bad}"], "--out"),
        (["leaderboard", "{result}", "--output", "{bad}/board.md"], "--output"),
    ],
)
def test_an_output_path_that_cannot_be_created_is_a_usage_error_before_any_work(
    tmp_path: Path, args: list[str], option: str
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result_file = tmp_path / "result.json"
    result_file.write_text("{}")
    before = sorted(tmp_path.rglob("*"))
    filled = [a.format(bad=blocker / "out", result=result_file) for a in args]
    result = invoke(*filled)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.output
    assert f"cannot be created: {blocker} is a file, not a folder" in result.output
    assert "Traceback" not in result.output
    assert sorted(tmp_path.rglob("*")) == before  # nothing written anywhere


def test_an_unwritable_cache_is_one_clear_error(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SALMU_HARNESS_CACHE", str(blocker / "cache"))
    result = invoke("mini", "build", "--scale", "test", "--quiet")
    assert result.exit_code == 2, result.output
    assert "the cache folder" in result.output and "cannot be created" in result.output
    assert "set SALMU_HARNESS_CACHE to a folder you can write to" in result.output
