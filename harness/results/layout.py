"""Where a run's files go: one folder per run, named by its run id, under the output folder.

::

    OUTPUT/RUN_ID/result.json           the result document
    OUTPUT/RUN_ID/run.log               every harness, method and metric log record
    OUTPUT/RUN_ID/model/                the unlearned model (open_clip local-dir), with
    OUTPUT/RUN_ID/model/salmu_training.json   what its method could read
    OUTPUT/RUN_ID/config.json           a bundle's settings (``run --bundle``)
    OUTPUT/RUN_ID/versions.txt          a bundle's package versions
    OUTPUT/RUN_ID/manifest.json         a bundle's sha256 manifest
    OUTPUT/RUN_ID/round-N/              a schedule's round N: its own result.json, model/
"""

from __future__ import annotations

import glob
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

RESULT = "result.json"
LOG = "run.log"
MODEL = "model"
TRAINING_RECORD = "salmu_training.json"
CONFIG = "config.json"
VERSIONS = "versions.txt"
MANIFEST = "manifest.json"
#: JSON files a run folder holds besides its result (a bundle's files; ``model/`` is skipped
#: whole)
BUNDLE_JSON = (CONFIG, MANIFEST)


@dataclass(frozen=True)
class RunFolder:
    """The paths of one run's folder."""

    root: Path

    @property
    def result(self) -> Path:
        return self.root / RESULT

    @property
    def model(self) -> Path:
        return self.root / MODEL

    @property
    def log(self) -> Path:
        return self.root / LOG


def new_run_id(label: str) -> str:
    """A run id: the label made safe for a folder name, the UTC time and a random suffix."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in label)[:60]
    return f"{safe}-{stamp}-{uuid.uuid4().hex[:6]}"


def run_folder(output: Path, run_id: str) -> RunFolder:
    """The folder of run ``run_id`` under ``output``."""
    return RunFolder(Path(output) / run_id)


def result_files(paths: Iterable[str]) -> list[Path]:
    """Files named directly, ``*.json`` files under directories (recursively), glob matches.

    In a directory, the harness's own other JSON files in a run folder (one that holds a
    ``result.json``: ``model/*.json``, a bundle's ``config.json`` and ``manifest.json``) are
    not result files and are skipped, and so are the rounds of a finished schedule (its
    ``result.json`` holds them); every other ``*.json`` is kept. A path that matches
    nothing is kept, so that it is reported as unreadable.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*.json")) if not is_run_folder_extra(p, path)
            )
        elif any(c in raw for c in "*?["):
            found.extend(sorted(Path(p) for p in glob.glob(raw, recursive=True)))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def is_run_folder_extra(file: Path, searched: Path | None = None) -> bool:
    """Whether ``file`` is one of the harness's own non-result files inside a run folder, or
    a file of a finished schedule's round below the folder ``searched``."""
    folder = file.parent
    if folder.name == MODEL and (folder.parent / RESULT).is_file():
        return True
    below = [f for f in file.parents if searched is None or searched in f.parents]
    if any(is_round_folder(f) and _is_schedule_result(f.parent / RESULT) for f in below):
        return True
    return file.name in BUNDLE_JSON and (folder / RESULT).is_file()


#: the name of round N's folder inside a schedule's run folder
ROUND_FOLDER = "round-{}"


def round_folder(root: Path, number: int) -> RunFolder:
    """Round ``number``'s run folder inside the schedule's folder ``root``."""
    return RunFolder(Path(root) / ROUND_FOLDER.format(number))


def round_number(folder: Path) -> int | None:
    """N for a schedule's ``round-N`` folder, else None."""
    prefix = ROUND_FOLDER.partition("{}")[0]
    suffix = folder.name.removeprefix(prefix)
    return int(suffix) if folder.name.startswith(prefix) and suffix.isdigit() else None


def is_round_folder(folder: Path) -> bool:
    """Whether ``folder`` is a schedule's ``round-N`` folder."""
    return round_number(folder) is not None


def _is_schedule_result(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as file:
            head = file.read(256)  # "kind" is a result's second field
    except OSError:
        return False
    return '"kind": "schedule"' in head
