"""The MLflow reporter: one MLflow run per salmu-harness run or evaluated checkpoint.

The tracking store is MLflow's own choice (``MLFLOW_TRACKING_URI``, e.g. a server,
``sqlite:///mlflow.db`` or a local ``file:`` store); the experiment is
``MLFLOW_EXPERIMENT_NAME`` or ``salmu-harness``. Params are the result's config, flattened;
metrics are the loss and forget passes per optimizer step, each metric's seconds, and at the
end every metric's value and normalised score; ``result.json`` is logged as an artefact.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.builtin.reporters.values import flatten, result_metrics
from harness.errors import HarnessError
from harness.tracking.reporter import ReporterSession, RunStart

EXPERIMENT = "salmu-harness"
#: MLflow keeps at most this many characters of a param value
PARAM_LIMIT = 6000
#: steps buffered before one log_batch call
BATCH = 200


class MlflowSession(ReporterSession):
    """An MLflow run, written through ``MlflowClient`` (no global active run is touched)."""

    def __init__(self, start: RunStart) -> None:
        import mlflow
        from mlflow.entities import Param

        experiment_name = os.environ.get("MLFLOW_EXPERIMENT_NAME", EXPERIMENT)
        uri = mlflow.get_tracking_uri()
        try:
            self._client = mlflow.MlflowClient()
            experiment = self._client.get_experiment_by_name(experiment_name)
            experiment_id = (
                experiment.experiment_id
                if experiment is not None
                else self._client.create_experiment(experiment_name)
            )
            run = self._client.create_run(
                experiment_id,
                run_name=start.run_id,
                tags={"salmu_harness.kind": start.kind, "salmu_harness.name": start.name},
            )
            self.run_id = run.info.run_id
            params = [
                Param(key, str(value)[:PARAM_LIMIT]) for key, value in flatten(start.config).items()
            ]
            for chunk in range(0, len(params), 100):
                self._client.log_batch(self.run_id, params=params[chunk : chunk + 100])
        except Exception as exc:
            raise HarnessError(
                f"MLflow cannot record at {uri}: {type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}",
                "set MLFLOW_TRACKING_URI to a store this machine can write (a server URL, "
                "sqlite:///mlflow.db), then run again",
            ) from exc
        self._pending: list[Any] = []

    def step(self, step: int, values: Mapping[str, float]) -> None:
        from mlflow.entities import Metric

        stamp = _now_ms()
        self._pending += [Metric(f"train/{k}", float(v), stamp, step) for k, v in values.items()]
        if len(self._pending) >= BATCH:
            self._flush()

    def stage(self, name: str, detail: Mapping[str, Any]) -> None:
        if name == "metric" and detail.get("seconds") is not None:
            key = f"seconds/{detail['model']}/{detail['key']}"
            self._client.log_metric(self.run_id, key, float(detail["seconds"]))

    def finish(self, document: Mapping[str, Any], result_path: Path | None) -> None:
        self._flush()
        numbers = result_metrics(document)
        if numbers:
            from mlflow.entities import Metric

            stamp = _now_ms()
            metrics = [Metric(k, v, stamp, 0) for k, v in numbers.items()]
            self._client.log_batch(self.run_id, metrics=metrics)
        diagnosis = document.get("diagnosis") or {}
        self._client.set_tag(self.run_id, "salmu_harness.status", document.get("status", ""))
        if diagnosis.get("modes") is not None:
            modes = ",".join(diagnosis["modes"]) or "none"
            self._client.set_tag(self.run_id, "salmu_harness.diagnosis", modes)
        if result_path is not None:
            self._client.log_artifact(self.run_id, str(result_path))
        status = "FINISHED" if document.get("status") == "ok" else "FAILED"
        self._client.set_terminated(self.run_id, status)

    def abandon(self, reason: str) -> None:
        self._flush()
        self._client.set_tag(self.run_id, "salmu_harness.abandoned", reason[:PARAM_LIMIT])
        self._client.set_terminated(self.run_id, "KILLED")

    def _flush(self) -> None:
        if self._pending:
            self._client.log_batch(self.run_id, metrics=self._pending)
            self._pending = []


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)
