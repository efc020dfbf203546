"""Many checkpoints in one process: the same numbers as one evaluation each, shared loading,
a failing checkpoint reported while the others go on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.errors import CheckpointError, ParameterError
from harness.results.validation import validate_file
from harness.run.checkpoints import CheckpointFailure, evaluate_checkpoint, evaluate_checkpoints
from harness.run.settings import RunOptions


def options(mini_root: Path, out: Path, **kwargs) -> RunOptions:
    return RunOptions(
        benchmark=str(mini_root), output_dir=out, show_progress=False, num_workers=0, **kwargs
    )


@pytest.fixture
def corrupt(tmp_path: Path) -> Path:
    path = tmp_path / "corrupt.safetensors"
    path.write_bytes(b"not a safetensors file")
    return path


def test_many_checkpoints_give_the_numbers_of_one_evaluation_each(
    mini_root: Path, finetune_outcome, corrupt: Path, tmp_path: Path
) -> None:
    checkpoints = [mini_root / "models" / "compromised", corrupt, finetune_outcome.model_path]
    outcomes = evaluate_checkpoints(checkpoints, options(mini_root, tmp_path / "many"))
    assert [type(o).__name__ for o in outcomes] == ["RunOutcome", "CheckpointFailure", "RunOutcome"]
    failure = outcomes[1]
    assert isinstance(failure, CheckpointFailure) and failure.checkpoint == str(corrupt)
    assert isinstance(failure.error, CheckpointError) and "corrupt" in failure.error.message
    # one folder per written result, nothing for the failed checkpoint
    folders = sorted(p.name for p in (tmp_path / "many").iterdir())
    assert len(folders) == 2 and not any("corrupt" in name for name in folders)
    for checkpoint, outcome in zip(checkpoints[::2], outcomes[::2], strict=True):
        assert validate_file(outcome.result_path) == []
        alone = evaluate_checkpoint(checkpoint, options(mini_root, tmp_path / "alone"))
        for key, metric in alone.document["metrics"].items():
            assert outcome.document["metrics"][key]["value"] == metric["value"], key
            assert outcome.document["metrics"][key]["ci"] == metric["ci"], key
        assert outcome.document["diagnosis"] == alone.document["diagnosis"]
    # where the time went: only image-cache misses decode; the later checkpoint only encodes
    stages = [outcomes[i].document["cost"]["stages"] for i in (0, 2)]
    misses = outcomes[0].document["evaluation"]["image_cache"]["misses"]
    assert (stages[0]["decode_seconds"] > 0) == (misses > 0)
    assert stages[1]["decode_seconds"] == 0
    for stage, outcome in zip(stages, outcomes[::2], strict=True):
        assert stage["image_encode_seconds"] > 0 and stage["text_encode_seconds"] > 0
        assert sum(stage.values()) - stage["references_seconds"] <= (
            outcome.document["cost"]["evaluation_seconds"] + 0.01
        )
    first, last = outcomes[0].document["evaluation"], outcomes[2].document["evaluation"]
    # the references were looked up once, for every checkpoint
    assert first["reference_cache"] == last["reference_cache"] == {"hits": 20, "misses": 0}
    # each result counts its own image-cache reads: the later one reads what the first cached
    assert last["image_cache"]["misses"] == 0
    assert (
        last["image_cache"]["hits"] == first["image_cache"]["hits"] + first["image_cache"]["misses"]
    )


def test_without_keep_going_the_first_failure_is_raised(
    mini_root: Path, corrupt: Path, tmp_path: Path
) -> None:
    with pytest.raises(CheckpointError):
        evaluate_checkpoints([corrupt], options(mini_root, tmp_path), keep_going=False)
    assert list(tmp_path.iterdir()) == [corrupt]


def test_one_run_id_cannot_name_several_results(mini_root: Path, tmp_path: Path) -> None:
    model = mini_root / "models" / "clean"
    with pytest.raises(ParameterError, match="--run-id names one result folder"):
        evaluate_checkpoints([model, model], options(mini_root, tmp_path, run_id="x"))
    assert not (tmp_path / "x").exists()


def test_the_cli_reports_each_failure_and_exits_1(
    mini_root: Path, corrupt: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    model = str(mini_root / "models" / "clean")
    result = CliRunner().invoke(
        main,
        [
            *("evaluate", model, str(corrupt), "--benchmark", str(mini_root)),
            *("--output", str(out), "--quiet", "--workers", "0"),
        ],
    )
    assert result.exit_code == 1, result.output
    assert f"error: {corrupt}: {corrupt} is corrupt or truncated" in result.output
    assert "nothing written" in result.output and "Traceback" not in result.output
    assert "2 checkpoints: 1 results written, 1 could not be evaluated" in result.output
    (written,) = out.glob("*/result.json")
    assert json.loads(written.read_text())["status"] == "ok"
    # one checkpoint alone keeps the one-error exit of every other command
    alone = CliRunner().invoke(
        main, ["evaluate", str(corrupt), "--benchmark", str(mini_root), "--output", str(out)]
    )
    assert alone.exit_code == 2 and "corrupt or truncated" in alone.output


def test_a_bare_state_dict_is_read_with_the_local_compromised_folders_config(
    mini_root: Path, tmp_path: Path
) -> None:
    """salmubench names ViT-B-16 as its architecture; a local Compromised folder of another
    architecture carries its own config, and bare weights files are read with that."""
    folder = mini_root / "models" / "compromised"
    outcome = evaluate_checkpoint(
        folder / "open_clip_model.safetensors",
        RunOptions(
            benchmark="salmubench",
            benchmark_options={
                "dataset": str(mini_root / "dataset"),
                "compromised": f"local-dir:{folder}",
                "clean": f"local-dir:{mini_root / 'models' / 'clean'}",
            },
            metrics=["2.2"],
            output_dir=tmp_path,
            show_progress=False,
            num_workers=0,
        ),
    )
    metric = outcome.document["metrics"]["2.2"]
    assert metric["value"] == metric["references"]["compromised"]["value"]
