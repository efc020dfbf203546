"""Reading a result file of the official SALMUBench evaluator into a harness result.

The official evaluator writes ``{"efficacy": {"1.1_RetFail": {"R@1", "MRR", "outcomes"}, ...},
"utility": {"2.1_GenKnow": {"ImageNet1k_Accuracy"}, ...}}`` and nothing else: no versions,
hashes, seeds or settings. An imported result holds exactly what the file says, marked
``kind: imported`` under protocol ``official``; what the file does not say is null and listed
under ``imported.unknown``, never invented. GenKnow's ``-1`` becomes ``skipped``. The Clean and
Compromised references are the official values for the released pair, or official files given
for them.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.builtin.salmubench.diagnosis import diagnose
from harness.builtin.salmubench.suite import SUITE
from harness.errors import ResultError
from harness.plugins import Registry
from harness.results.document import base_document, metric_entry
from harness.versions import RESULT_SCHEMA_VERSION

RELEASE_VALUES = Path(__file__).with_name("official_release_values.json")
#: the per-row mean of a file may differ from its headline by rounding only
TOLERANCE = 1e-5
GENKNOW_NOT_RUN = (
    "the official evaluator wrote -1: GenKnow was not run (it needs a local ImageNet-1k webdataset)"
)
UNKNOWN_FIELDS = [
    "the evaluated model's weights (no hash)",
    "the reference models' weights (no hash)",
    "the evaluation dataset's split contents (no hashes)",
    "device, precision and library versions",
    "when it ran and how long it took",
    "confidence intervals and per-identity values (rows carry no identity)",
    "the GenKnow set",
]


@dataclass(frozen=True)
class OfficialKey:
    """Where one harness metric sits in an official file."""

    group: str
    name: str
    value: str
    secondary: tuple[tuple[str, str], ...] = ()
    per_row: str | None = None


OFFICIAL_KEYS = {
    "1.1": OfficialKey("efficacy", "1.1_RetFail", "MRR", (("r_at_1", "R@1"),), "outcomes"),
    "1.2": OfficialKey("efficacy", "1.2_AssocStr", "mean", per_row="scores"),
    "1.3": OfficialKey("efficacy", "1.3_ACS", "acs_accuracy"),
    "1.4": OfficialKey("efficacy", "1.4_IdZSC", "identity_classification_accuracy"),
    "1.5": OfficialKey("efficacy", "1.5_CoreAssoc", "mean", per_row="scores"),
    "2.1": OfficialKey("utility", "2.1_GenKnow", "ImageNet1k_Accuracy"),
    "2.2": OfficialKey("utility", "2.2_InterIdSim", "mean"),
    "2.3": OfficialKey("utility", "2.3_IntraIdSim", "mean"),
    "2.4": OfficialKey("utility", "2.4_VisIdInt", "mean"),
    "2.5": OfficialKey("utility", "2.5_FragSim", "mean"),
}


def read_official(path: Path) -> dict[str, Any]:
    """The JSON of an official result file, or a ``ResultError`` saying what is wrong."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResultError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultError(
            f"{path} is not JSON: {exc}", "give the file the evaluator wrote"
        ) from exc
    if not isinstance(data, dict) or not {"efficacy", "utility"} & set(data):
        raise ResultError(
            f"{path} is not an official evaluator result: it has no 'efficacy' or 'utility' "
            "section",
            'the official evaluator writes {"efficacy": {...}, "utility": {...}}',
        )
    return data


def official_record(data: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    """The harness record (value, secondary values, per-row numbers) of one official metric."""
    spec = OFFICIAL_KEYS[key]
    section = (data.get(spec.group) or {}).get(spec.name)
    if section is None:
        return {"status": "skipped", "reason": f"{spec.name} is not in {where}"}
    if not isinstance(section, Mapping) or spec.value not in section:
        raise ResultError(f"{where}: {spec.group}.{spec.name} has no {spec.value!r}")
    value = _number(section[spec.value], f"{where}: {spec.name}.{spec.value}")
    if key == "2.1" and value == -1:
        return {"status": "skipped", "reason": GENKNOW_NOT_RUN}
    record: dict[str, Any] = {
        "status": "ok",
        "value": value,
        "values": {
            ours: _number(section[theirs], f"{where}: {spec.name}.{theirs}")
            for ours, theirs in spec.secondary
            if theirs in section
        },
        "details": {"official_key": spec.name, "source": "the official evaluator's output"},
    }
    rows = section.get(spec.per_row) if spec.per_row else None
    if rows is not None:
        record["per_row"] = _per_row(key, rows, value, f"{where}: {spec.name}.{spec.per_row}")
    return record


def _per_row(key: str, rows: Any, value: float, where: str) -> dict[str, list[float]]:
    if not isinstance(rows, list) or not rows:
        raise ResultError(f"{where} is not a non-empty list of numbers")
    numbers = [_number(r, where) for r in rows]
    if key == "1.1":  # outcomes are 1-based integer ranks
        if any(r < 1 for r in numbers):
            raise ResultError(f"{where} holds a rank below 1")
        per_row = {
            "value": [1.0 / r for r in numbers],
            "r_at_1": [float(r == 1) for r in numbers],
            "rank": numbers,
        }
    else:
        per_row = {"value": numbers}
    mean = math.fsum(per_row["value"]) / len(numbers)
    if abs(mean - value) > TOLERANCE:
        raise ResultError(
            f"{where}: the rows' mean {mean:.6f} is not the file's value {value:.6f}",
            "the file is inconsistent; re-export it from the official evaluator",
        )
    return per_row


def _number(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ResultError(f"{where} is {raw!r}, not a finite number")
    return float(raw)


def release_references() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The official evaluator's output for the released Clean and Compromised pair."""
    release = json.loads(RELEASE_VALUES.read_text(encoding="utf-8"))
    return release["clean"], release["compromised"], release


def import_official(
    path: Path,
    registry: Registry,
    *,
    label: str | None = None,
    clean: Path | None = None,
    compromised: Path | None = None,
    benchmark: str = "salmubench",
    revision: str | None = None,
    run_id: str,
) -> dict[str, Any]:
    """A schema-valid result document (``kind: imported``) from an official result file."""
    data = read_official(path)
    if (clean is None) != (compromised is None):
        raise ResultError("give both --clean and --compromised, or neither")
    if clean is not None and compromised is not None:
        references = {"clean": read_official(clean), "compromised": read_official(compromised)}
        source = f"official evaluator files {Path(clean).name} and {Path(compromised).name}"
        reference_files = {"clean": str(clean), "compromised": str(compromised)}
        reference_models = {
            role: {"id": f"official:{Path(file).name}", "revision": None}
            for role, file in reference_files.items()
        }
    else:
        released_clean, released_compromised, release = release_references()
        references = {"clean": released_clean, "compromised": released_compromised}
        source = release["source"]
        reference_files = {"clean": str(RELEASE_VALUES), "compromised": str(RELEASE_VALUES)}
        reference_models = release["models"]
        if benchmark == release["benchmark"]["name"] and revision is None:
            revision = release["benchmark"]["revision"]
    label = label or Path(path).stem
    protocol = registry.protocol("official")
    metrics = {}
    for key in OFFICIAL_KEYS:
        metric = registry.metric(key)
        record = official_record(data, key, str(path))
        refs = {
            role: _without_rows(official_record(references[role], key, reference_files[role]))
            for role in ("clean", "compromised")
        }
        metrics[key] = metric_entry(metric, registry.plugin_of("metric", key), record, refs)
    document = base_document("imported", run_id, None)
    document.update(
        {
            "schema_version": RESULT_SCHEMA_VERSION,
            "plugins": [],
            "method": None,
            "seeds": {"run": None, "evaluation": 42},
            "environment": dict.fromkeys(
                ("device", "precision", "torch", "open_clip", "python", "platform")
            ),
            "benchmark": {
                "name": benchmark,
                "revision": revision,
                "splits": {},
                "genknow": None,
                "details": {},
            },
            "models": {
                **{
                    role: {**reference_models[role], "path": None, "sha256": None}
                    for role in ("clean", "compromised")
                },
                "evaluated": {"id": f"official:{label}", "sha256": None, "path": None},
            },
            "budget": None,
            "evaluation": {"seed": 42, "bootstrap": None, "protocol": protocol.to_json()},
            "metrics": metrics,
            "cost": {},
            "config": {"protocol": protocol.name, "benchmark": benchmark},
            "imported": {
                "from": "official-evaluator",
                "file": str(path),
                "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
                "label": label,
                "references": source,
                "unknown": UNKNOWN_FIELDS + ([] if revision else ["the dataset revision"]),
            },
        }
    )
    document["suite"] = SUITE.declaration()
    document["diagnosis"] = diagnose(metrics, SUITE.rules)
    return document


def _without_rows(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "per_row"}
