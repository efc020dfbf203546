"""Writing a result only once it validates (atomically), and reading one that validates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import ResultError
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
