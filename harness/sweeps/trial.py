"""Running one trial, and the references of a sweep: plain functions that Ray runs as tasks.

Nothing here imports Ray, so the same functions run in a test or in a local loop.
"""

from __future__ import annotations

import tempfile
import traceback
from pathlib import Path
from typing import Any

from harness.results.document import error_record
from harness.run.pipeline import run_method
from harness.run.rounds import ScheduleInterrupted
from harness.run.sections import reference_records
from harness.run.settings import RunOptions


def sweep_options(settings: dict[str, Any], **extra: Any) -> RunOptions:
    """Run options of a sweep's trials from the settings they share (a configuration
    mapping), without progress bars: many trials share one terminal."""
    return RunOptions.from_config(settings, "the sweep").replace(show_progress=False, **extra)


def compute_references(settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
    """Every Clean and Compromised record the trials need, and the cache's hits and misses."""
    return reference_records(sweep_options(settings))


def execute_trial(
    trial: dict[str, Any], settings: dict[str, Any], references: dict[str, Any]
) -> dict[str, Any]:
    """Run one trial; ``{"status": "ok", "document": ...}`` or ``{"status": "failed", ...}``.

    The unlearned model is written to a temporary folder and dropped: a sweep keeps results,
    and any trial can be re-run with ``salmu-harness run`` from its recorded configuration.
    """
    try:
        with tempfile.TemporaryDirectory(prefix="salmu-trial-") as scratch:
            options = sweep_options(
                settings,
                seed=trial["seed"],
                budget=trial["budget"],
                schedule=trial.get("schedule"),
                output_dir=Path(scratch),
                run_id=f"{trial['method']}-{trial['key'][:12]}",
                references=references,
            )
            outcome = run_method(trial["method"], trial["parameters"], options)
            return {"status": "ok", "document": outcome.document}
    except ScheduleInterrupted:  # Ctrl-C: the sweep stops, the trial is not a failure
        raise
    except Exception as exc:  # a failed trial is recorded; it never stops the sweep
        record = error_record(exc)
        record["traceback"] = traceback.format_exc(limit=20)
        return {"status": "failed", "error": record}
