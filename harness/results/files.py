"""Writing a result only once it validates (atomically) and never over another run's, and
reading one that validates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import ParameterError, ResultError
from harness.results.layout import RunFolder
from harness.results.validation import validate_file, validate_text
from harness.storage import write_json_atomic


def write_result(path: Path, document: dict[str, Any]) -> Path:
    """Validate ``document`` and write it atomically; refuse (and write nothing) if invalid."""
    problems = validate_text(json.dumps(document, allow_nan=True), str(path))
    if problems:
        listing = "\n  ".join(str(p) for p in problems[:10])
        raise ResultError(
            f"refusing to write an invalid result document:\n  {listing}",
            "this is a bug in the harness or in a plugin; please report it with this message",
        )
    write_json_atomic(path, document)
    return path


def read_result(path: Path) -> dict[str, Any]:
    """A result document that validates, or a ``ResultError`` naming the problems."""
    problems = validate_file(Path(path))
    if problems:
        raise ResultError(
            "\n".join(str(p) for p in problems[:10]),
            "run `salmu-harness validate` for the full list",
        )
    return json.loads(Path(path).read_text())


def refuse_overwrite(folder: RunFolder, kind: str | None = None) -> None:
    """A run folder named by ``--run-id`` may already hold a result only of ``kind`` (a
    schedule resumed in its folder): any other would be overwritten."""
    if not folder.result.is_file():
        return
    try:
        held = json.loads(folder.result.read_text()).get("kind")
    except (OSError, ValueError):
        held = None
    if held != kind:
        raise ParameterError(
            f"{folder.root} already holds a result, which this run would overwrite",
            "choose another --run-id",
        )
