"""The sections of a result document, each built by its own function, and the document
assembled from them once."""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

from harness.errors import HarnessError
from harness.evaluation.scoring import normalised_score
from harness.metric import Metric
from harness.plugins import PluginRecord
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
            set(entry["provides"])
            | set(record.methods)
            | set(record.metrics)
            | set(record.benchmarks)
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
        "cost": metric.cost,
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


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


#: the top-level fields of a result, in the order documents are written
SECTIONS = (
    "schema_version",
    "kind",
    "run_id",
    "status",
    "error",
    "started_at",
    "finished_at",
    "harness",
    "method",
    "config",
    "plugins",
    "seeds",
    "environment",
    "benchmark",
    "models",
    "budget",
    "evaluation",
    "metrics",
    "suite",
    "diagnosis",
    "schedule",
    "warnings",
    "cost",
)


def assemble(header: dict[str, Any], **sections: Any) -> dict[str, Any]:
    """The document from its header and sections, in the canonical order (``None`` sections
    that are optional are left out)."""
    optional = {"error", "suite", "diagnosis", "warnings", "schedule"}
    document = {**header, **sections}
    unknown = set(document) - set(SECTIONS)
    if unknown:
        raise ValueError(f"not result sections: {sorted(unknown)}")
    return {
        key: document[key]
        for key in SECTIONS
        if key in document and not (key in optional and document[key] is None)
    }
