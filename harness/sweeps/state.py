"""A sweep's folder: which trials are done, which failed, and their results and errors.

    DIR/sweep.json                  the sweep as run, and its trials
    DIR/references.json             how the references were obtained (once per sweep run)
    DIR/trials/KEY/result.json      a finished trial's result (written atomically)
    DIR/trials/KEY/error.json       a failed trial's error (removed when it later succeeds)
    DIR/trials/KEY/node.json        the Ray node that last ran the trial (node id, host)

A trial is done only when its ``result.json`` exists and validates, so a sweep killed at any
point loses no finished result and never counts a torn file as finished.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from harness.results.files import write_result
from harness.results.validation import validate_file
from harness.storage import write_json_atomic
from harness.sweeps.spec import Sweep, Trial

Status = Literal["done", "failed", "pending"]
SWEEP_FILE = "sweep.json"
REFERENCES_FILE = "references.json"


def trial_dir(root: Path, trial: Trial) -> Path:
    return Path(root) / "trials" / trial.key[:24]


def status(root: Path, trial: Trial) -> Status:
    """Whether ``trial`` has a valid result, a recorded error, or neither."""
    folder = trial_dir(root, trial)
    result = folder / "result.json"
    if result.is_file() and not validate_file(result):
        return "done"
    return "failed" if (folder / "error.json").is_file() else "pending"


def statuses(root: Path, trials: list[Trial]) -> dict[str, Status]:
    """Status of every trial, by key."""
    return {trial.key: status(root, trial) for trial in trials}


def record_result(root: Path, trial: Trial, document: dict[str, Any]) -> Path:
    """Write a finished trial's result (validated, atomic) and forget an earlier error."""
    folder = trial_dir(root, trial)
    path = write_result(folder / "result.json", document)
    (folder / "error.json").unlink(missing_ok=True)
    return path


def record_failure(root: Path, trial: Trial, error: dict[str, Any]) -> Path:
    """Write a failed trial's error; the trial runs again on the next run of the sweep."""
    path = trial_dir(root, trial) / "error.json"
    write_json_atomic(path, {"trial": trial.to_json(), "error": error})
    return path


def write_sweep(root: Path, sweep: Sweep, trials: list[Trial]) -> None:
    """Record the sweep as run and its trial list."""
    write_json_atomic(
        Path(root) / SWEEP_FILE,
        {"sweep": sweep.to_json(), "trials": [t.to_json() for t in trials]},
    )


def read_sweep(root: Path) -> tuple[Sweep, list[Trial]]:
    """The sweep and trials recorded in ``root``."""
    data = json.loads((Path(root) / SWEEP_FILE).read_text())
    return Sweep(**data["sweep"]), [Trial.from_json(t) for t in data["trials"]]


def load_result(root: Path, trial: Trial) -> dict[str, Any]:
    return json.loads((trial_dir(root, trial) / "result.json").read_text())


def record_node(root: Path, trial: Trial, node: dict[str, Any]) -> Path:
    """Record the Ray node (node id, host) that ran ``trial``."""
    path = trial_dir(root, trial) / "node.json"
    write_json_atomic(path, node)
    return path


def nodes(root: Path, trials: list[Trial]) -> dict[str, dict[str, Any]]:
    """The node that ran each trial that has one recorded, by trial key."""
    found = {}
    for trial in trials:
        path = trial_dir(root, trial) / "node.json"
        if path.is_file():
            found[trial.key] = json.loads(path.read_text())
    return found
