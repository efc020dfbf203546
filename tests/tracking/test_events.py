"""Reporters hear a run's steps, metric stages and result, in that order, and never break it."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.plugins import PluginRecord
from harness.run.checkpoints import CheckpointFailure, evaluate_checkpoints
from harness.run.pipeline import run_method
from harness.run.settings import RunOptions
from harness.tracking.reporter import Reporter, ReporterSession, RunStart

PARAMETERS = {"lr": 1e-4, "batch_size": 16}


class Recorder(ReporterSession):
    def __init__(self, start: RunStart, log: list, fail_on: str | None = None) -> None:
        self.log = log
        self.fail_on = fail_on
        log.append(("open", start.kind, start.name, start.run_id))

    def step(self, step, values) -> None:
        if self.fail_on == "step":
            raise RuntimeError("tracker went away")
        if self.fail_on == "interrupt":
            raise KeyboardInterrupt
        self.log.append(("step", step, dict(values)))

    def stage(self, name, detail) -> None:
        self.log.append(("stage", name, dict(detail)))

    def finish(self, document, result_path) -> None:
        self.log.append(("finish", document, result_path))

    def abandon(self, reason) -> None:
        self.log.append(("abandon", reason))


def with_reporter(registry, log: list, fail_on: str | None = None, name: str = "recorder"):
    def open_session(start: RunStart) -> ReporterSession:
        if fail_on == "open":
            raise HarnessError("the tracker is unreachable", "start it")
        return Recorder(start, log, fail_on)

    record = PluginRecord("test", "test-dist", "1")
    reporters = {
        **registry.reporters,
        name: (Reporter(name=name, description="records events", open=open_session), record),
    }
    return dataclasses.replace(registry, reporters=reporters)


def options(mini_root: Path, tmp_path: Path, **changes) -> RunOptions:
    return RunOptions(
        benchmark=str(mini_root),
        output_dir=tmp_path,
        show_progress=False,
        num_workers=0,
        budget=0.5,
        metrics=["1.1"],
        report_to=("recorder",),
        **changes,
    )


def test_a_run_reports_steps_then_stages_then_its_result(
    mini_root: Path, baselines_registry, tmp_path: Path
) -> None:
    log: list = []
    registry = with_reporter(baselines_registry, log)
    outcome = run_method("finetune", PARAMETERS, options(mini_root, tmp_path), registry)
    kinds = [event[0] for event in log]
    assert kinds[0] == "open" and kinds[-1] == "finish"
    assert log[0][1:3] == ("run", "finetune") and log[0][3] == outcome.document["run_id"]
    steps = [event for event in log if event[0] == "step"]
    assert [s[1] for s in steps] == list(
        range(1, outcome.document["budget"]["optimizer_steps"] + 1)
    )
    assert all(s[2]["loss"] > 0 for s in steps)
    assert steps[-1][2]["retain_samples"] == outcome.document["budget"]["samples_read"]["retain"]
    stages = [event for event in log if event[0] == "stage"]
    assert kinds.index("stage") > kinds.index("step")  # evaluation after training
    evaluated = [s[2] for s in stages if s[2]["model"] == "evaluated"]
    assert [(s["key"], s["status"]) for s in evaluated] == [("1.1", "ok")]
    assert evaluated[0]["value"] == outcome.document["metrics"]["1.1"]["value"]
    _, document, path = log[-1]
    assert document == outcome.document == json.loads(Path(path).read_text())


def test_a_failing_session_is_dropped_and_the_run_goes_on(
    mini_root: Path, baselines_registry, tmp_path: Path, caplog
) -> None:
    log: list = []
    registry = with_reporter(baselines_registry, log, fail_on="step")
    with caplog.at_level(logging.ERROR, logger="salmu_harness"):
        outcome = run_method("finetune", PARAMETERS, options(mini_root, tmp_path), registry)
    assert outcome.result_path.is_file()
    assert [event[0] for event in log] == ["open"]  # dropped at its first step
    assert "reporter recorder failed on step" in caplog.text


def test_a_reporter_that_cannot_start_stops_the_run_before_anything(
    mini_root: Path, baselines_registry, tmp_path: Path
) -> None:
    registry = with_reporter(baselines_registry, [], fail_on="open")
    with pytest.raises(HarnessError, match="the tracker is unreachable"):
        run_method("finetune", PARAMETERS, options(mini_root, tmp_path / "out"), registry)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_interrupted_run_is_abandoned(
    mini_root: Path, baselines_registry, tmp_path: Path
) -> None:
    log: list = []
    registry = with_reporter(baselines_registry, log, fail_on="interrupt")
    with pytest.raises(KeyboardInterrupt):
        run_method("finetune", PARAMETERS, options(mini_root, tmp_path), registry)
    assert log[-1] == ("abandon", "interrupted")


def test_each_checkpoint_is_its_own_tracked_run(
    mini_root: Path, baselines_registry, tmp_path: Path
) -> None:
    log: list = []
    registry = with_reporter(baselines_registry, log)
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not weights")
    checkpoints = [mini_root / "models" / "compromised", broken]
    outcomes = evaluate_checkpoints(checkpoints, options(mini_root, tmp_path / "out"), registry)
    assert isinstance(outcomes[1], CheckpointFailure)
    opened = [event for event in log if event[0] == "open"]
    assert [e[1] for e in opened] == ["evaluate", "evaluate"]
    ends = [event[0] for event in log if event[0] in ("finish", "abandon")]
    assert ends == ["finish", "abandon"]
    assert "CheckpointError" in log[-1][1] or "broken" in log[-1][1]


def test_unknown_reporters_get_a_did_you_mean(baselines_registry) -> None:
    from harness.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="did you mean 'wandb'"):
        baselines_registry.reporter("wandbb")


def test_a_schedule_is_one_tracked_run_whose_steps_keep_rising(
    mini_root: Path, baselines_registry, tmp_path: Path
) -> None:
    log: list = []
    registry = with_reporter(baselines_registry, log)
    scheduled = options(mini_root, tmp_path, schedule="sequential-2")
    outcome = run_method("finetune", PARAMETERS, scheduled, registry)
    assert [e[0] for e in log].count("open") == 1 and log[-1][0] == "finish"
    assert log[-1][1]["kind"] == "schedule"  # the schedule's result, once, at the end
    steps = [e[1] for e in log if e[0] == "step"]
    rounds = outcome.document["schedule"]["round_results"]
    assert len(steps) == sum(r["cost"]["optimizer_steps"] for r in rounds) >= 2
    assert steps == sorted(steps) and len(set(steps)) == len(steps)  # round 2 after round 1
