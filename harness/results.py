"""Result documents: assembling one, and writing it only once it validates."""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, ResultError
from harness.metric import Metric
from harness.plugins import PluginRecord
from harness.scoring import normalised_score
from harness.storage import write_json_atomic
from harness.validation import validate_text
from harness.versions import PLUGIN_API_VERSION, RESULT_SCHEMA_VERSION, __version__


def now() -> str:
    """The current UTC time in ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def environment(device: str, precision: str) -> dict[str, str]:
    """Device, precision and the versions of what computed the numbers."""
    return {
        "device": device,
        "precision": precision,
        "torch": _version("torch"),
        "open_clip": _version("open_clip_torch"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def plugins_involved(records: Iterable[PluginRecord]) -> list[dict[str, Any]]:
    """Name, distribution, version and what each plugin provided, once per plugin."""
    seen: dict[str, dict[str, Any]] = {}
    for record in records:
        entry = seen.setdefault(
            record.name,
            {
                "name": record.name,
                "distribution": record.distribution,
                "version": record.version,
                "provides": [],
            },
        )
        entry["provides"] = sorted(
            set(entry["provides"]) | set(record.methods) | set(record.metrics)
        )
    return sorted(seen.values(), key=lambda e: e["name"])


def metric_entry(
    metric: Metric,
    plugin: PluginRecord,
    record: dict[str, Any],
    references: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """One metric's section: declaration, values, references and normalised score."""
    entry: dict[str, Any] = {
        "name": metric.name,
        "group": metric.group,
        "direction": metric.direction,
        "target": metric.target,
        "version": metric.version,
        "splits": list(metric.splits),
        "bounds": list(metric.bounds) if metric.bounds else None,
        "plugin": {"distribution": plugin.distribution, "version": plugin.version},
        **record,
        "references": references,
    }
    clean, compromised = references["clean"], references["compromised"]
    if record.get("status") == "ok" and clean.get("status") == compromised.get("status") == "ok":
        entry["normalized"] = normalised_score(
            metric.target, record["value"], clean["value"], compromised["value"]
        )
    return entry


def error_record(exc: BaseException) -> dict[str, Any]:
    """The ``error`` section of a failed result."""
    if isinstance(exc, HarnessError):
        return {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint}
    return {"type": type(exc).__name__, "message": str(exc), "hint": None}


def base_document(kind: str, run_id: str, started_at: str | None) -> dict[str, Any]:
    """The fields every result starts with."""
    return {
        "schema_version": RESULT_SCHEMA_VERSION,
        "kind": kind,
        "run_id": run_id,
        "status": "ok",
        "started_at": started_at,
        "finished_at": started_at,
        "harness": {"version": __version__, "plugin_api": PLUGIN_API_VERSION},
    }


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
    """A result document that validates, or a :class:`ResultError` naming the problems."""
    from harness.validation import validate_file

    problems = validate_file(Path(path))
    if problems:
        raise ResultError(
            "\n".join(str(p) for p in problems[:10]),
            "run `salmu-harness validate` for the full list",
        )
    return json.loads(Path(path).read_text())


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"
