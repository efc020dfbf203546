"""The MLflow and W&B reporters, for real: one finetune run on the test mini reports to a local
MLflow file store and to W&B offline files, and both are read back."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.run.pipeline import run_method
from harness.run.settings import RunOptions

PARAMETERS = {"lr": 1e-4, "batch_size": 16}


@pytest.fixture(scope="module")
def tracked(mini_root: Path, baselines_registry, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("tracked")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MLFLOW_TRACKING_URI", (root / "mlruns").as_uri())
        env.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        env.setenv("MLFLOW_EXPERIMENT_NAME", "salmu-test")
        env.setenv("WANDB_MODE", "offline")
        env.setenv("WANDB_DIR", str(root / "wandb-dir"))
        env.setenv("WANDB_PROJECT", "salmu-test")
        options = RunOptions(
            benchmark=str(mini_root),
            output_dir=root / "runs",
            show_progress=False,
            num_workers=0,
            budget=1.0,
            metrics=["1.1", "2.2"],
            report_to=("mlflow", "wandb"),
        )
        outcome = run_method("finetune", PARAMETERS, options, baselines_registry)
    return {"root": root, "outcome": outcome}


def test_mlflow_holds_params_steps_metrics_and_the_result(tracked) -> None:
    import mlflow

    outcome, root = tracked["outcome"], tracked["root"]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        client = mlflow.MlflowClient(tracking_uri=(root / "mlruns").as_uri())
        experiment = client.get_experiment_by_name("salmu-test")
        (run,) = client.search_runs([experiment.experiment_id])
        document = outcome.document
        assert run.info.run_name == document["run_id"] and run.info.status == "FINISHED"
        params = run.data.params
        assert params["method"] == "finetune" and float(params["parameters.lr"]) == 1e-4
        assert float(params["budget"]) == 1.0 and params["benchmark"] == str(
            Path(params["benchmark"])
        )
        # one loss per optimizer step, in step order
        losses = client.get_metric_history(run.info.run_id, "train/loss")
        steps = document["budget"]["optimizer_steps"]
        assert steps >= 2 and [m.step for m in losses] == list(range(1, steps + 1))
        assert all(m.value > 0 for m in losses)
        read = client.get_metric_history(run.info.run_id, "train/retain_samples")
        assert [m.step for m in read] == [m.step for m in losses]
        assert read[-1].value == document["budget"]["samples_read"]["retain"]
        passes = client.get_metric_history(run.info.run_id, "train/forget_passes")
        assert passes[-1].value == pytest.approx(document["budget"]["forget_passes"], abs=1e-6)
        # the final numbers are the result's
        retfail = document["metrics"]["1.1"]
        label = f"1.1 {retfail['name']}"
        assert run.data.metrics[f"metrics/{label}"] == retfail["value"]
        assert run.data.metrics[f"normalized/{label}"] == retfail["normalized"]["score"]
        assert any(k.startswith("seconds/evaluated/") for k in run.data.metrics)
        assert run.data.tags["salmu_harness.diagnosis"] == (
            ",".join(document["diagnosis"]["modes"]) or "none"
        )
        (artifact,) = client.list_artifacts(run.info.run_id)
        local = client.download_artifacts(run.info.run_id, artifact.path, str(root / "dl"))
        assert json.loads(Path(local).read_text()) == document


def wandb_records(path: Path) -> list:
    """The records of a W&B ``.wandb`` file: a ``:W&B`` header, then records in 32 KiB blocks,
    each chunk with a 7-byte header (crc32, length, type: 1 full, 2 first, 3 middle, 4 last)."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B"
    records, pending, offset = [], b"", 7
    block = 32768
    while offset + 7 <= len(data):
        room = block - offset % block
        if room < 7:  # block trailer padding
            offset += room
            continue
        _, length, kind = struct.unpack("<IHB", data[offset : offset + 7])
        chunk = data[offset + 7 : offset + 7 + length]
        offset += 7 + length
        if kind == 0 and length == 0:
            continue
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
    return records


def test_wandb_offline_files_hold_config_steps_summary_and_the_result(tracked) -> None:
    outcome, root = tracked["outcome"], tracked["root"]
    document = outcome.document
    (run_file,) = (root / "wandb-dir").glob("wandb/offline-run-*/run-*.wandb")
    records = wandb_records(run_file)
    kinds = [r.WhichOneof("record_type") for r in records]
    run = next(r.run for r in records if r.WhichOneof("record_type") == "run")
    assert run.display_name == document["run_id"] and run.project == "salmu-test"
    config = {item.key: json.loads(item.value_json) for item in run.config.update}
    assert config["method"] == "finetune" and config["parameters.lr"] == 1e-4
    history = [
        {
            item.key or "/".join(item.nested_key): json.loads(item.value_json)
            for item in r.history.item
        }
        for r in records
        if r.WhichOneof("record_type") == "history"
    ]
    losses = [(h["_step"], h["train/loss"]) for h in history if "train/loss" in h]
    steps = document["budget"]["optimizer_steps"]
    assert [s for s, _ in losses] == list(range(1, steps + 1))
    summary = {
        item.key or "/".join(item.nested_key): json.loads(item.value_json)
        for r in records
        if r.WhichOneof("record_type") == "summary"
        for item in r.summary.update
    }
    retfail = document["metrics"]["1.1"]
    assert summary[f"metrics/1.1 {retfail['name']}"] == retfail["value"]
    assert summary["status"] == "ok"
    artifact = next(r.artifact for r in records if r.WhichOneof("record_type") == "artifact")
    assert artifact.type == "result"
    assert [entry.path for entry in artifact.manifest.contents] == ["result.json"]
    assert "exit" in kinds


def test_a_missing_tracker_library_names_the_extra(monkeypatch) -> None:
    import builtins

    from harness.builtin.reporters import MLFLOW
    from harness.tracking.reporter import RunStart

    real_import = builtins.__import__

    def no_mlflow(name, *args, **kwargs):
        if name == "mlflow" or name.startswith("mlflow."):
            raise ImportError("No module named 'mlflow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mlflow)
    with pytest.raises(HarnessError) as info:
        MLFLOW.open(RunStart("r", "run", "finetune", {}, Path("/tmp/x")))
    assert info.value.hint == "pip install 'salmu-harness[mlflow]'"


def test_an_unwritable_mlflow_store_stops_the_run_before_it_starts(
    mini_root: Path, baselines_registry, tmp_path: Path, monkeypatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (blocker / "mlruns").as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    options = RunOptions(
        benchmark=str(mini_root),
        output_dir=tmp_path / "runs",
        show_progress=False,
        report_to=("mlflow",),
    )
    with pytest.raises(HarnessError, match="MLflow cannot record at") as info:
        run_method("finetune", PARAMETERS, options, baselines_registry)
    assert "MLFLOW_TRACKING_URI" in (info.value.hint or "")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
