"""The Weights & Biases reporter: one W&B run per salmu-harness run or evaluated checkpoint.

W&B's own settings apply: ``WANDB_PROJECT`` (default ``salmu-harness``), ``WANDB_ENTITY``,
``WANDB_MODE=offline`` to keep runs on this machine (``wandb sync`` uploads them later) and
``WANDB_DIR`` (default: the output folder). The config is the result's config, flattened;
the loss and forget passes are logged per optimizer step, each metric's seconds as it ends,
the result's values and normalised scores in the summary, and ``result.json`` as an artifact.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.builtin.reporters.values import flatten, result_metrics
from harness.errors import HarnessError
from harness.tracking.reporter import ReporterSession, RunStart

PROJECT = "salmu-harness"


class WandbSession(ReporterSession):
    """A W&B run of its own (``reinit="create_new"``: several may follow in one process)."""

    def __init__(self, start: RunStart) -> None:
        import wandb

        folder = Path(os.environ.get("WANDB_DIR") or start.folder.parent)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            self._run = wandb.init(
                project=os.environ.get("WANDB_PROJECT", PROJECT),
                name=start.run_id,
                job_type=start.kind,
                config=flatten(start.config),
                dir=str(folder),
                reinit="create_new",
                settings=wandb.Settings(silent=True, console="off"),
            )
        except Exception as exc:
            raise HarnessError(
                f"Weights & Biases could not start a run: {type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}",
                "log in (`wandb login` or WANDB_API_KEY), or set WANDB_MODE=offline to keep "
                "the run on this machine and upload it later with `wandb sync`",
            ) from exc
        self._step = 0

    def step(self, step: int, values: Mapping[str, float]) -> None:
        self._step = step
        self._run.log({f"train/{k}": float(v) for k, v in values.items()}, step=step)

    def stage(self, name: str, detail: Mapping[str, Any]) -> None:
        if name == "metric" and detail.get("seconds") is not None:
            key = f"seconds/{detail['model']}/{detail['key']}"
            self._run.log({key: float(detail["seconds"])}, step=self._step)

    def finish(self, document: Mapping[str, Any], result_path: Path | None) -> None:
        import wandb

        self._run.summary.update(result_metrics(document))
        self._run.summary["status"] = document.get("status")
        modes = (document.get("diagnosis") or {}).get("modes")
        if modes is not None:
            self._run.summary["diagnosis"] = ",".join(modes) or "none"
        if result_path is not None:
            artifact = wandb.Artifact(f"result-{self._run.id}", type="result")
            artifact.add_file(str(result_path), name="result.json")
            self._run.log_artifact(artifact)
        self._run.finish(exit_code=0 if document.get("status") == "ok" else 1)

    def abandon(self, reason: str) -> None:
        self._run.summary["abandoned"] = reason
        self._run.finish(exit_code=1)
