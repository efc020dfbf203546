"""``validate --strict``: a result's references against the locally cached references, and
runs whose method changed nothing (see ``harness.results.no_op``).

A result declares the Clean and Compromised values it was normalised against. When this
machine's reference cache holds the same metric for the same weights, splits, benchmark
revision and evaluation settings (the cache key is rebuilt from the result's own fields, so a
result cannot point the check elsewhere), the declared values must equal the cached ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.evaluation.references import genknow_key, reference_key
from harness.results.no_op import no_op_problems
from harness.storage import cache_dir

TOLERANCE = 1e-9


@dataclass
class StrictReport:
    """Problems found, and how many references could and could not be checked."""

    problems: list[tuple[str, str]]
    checked: int = 0
    unavailable: int = 0


def check_references(document: dict[str, Any], cache_root: Path | None = None) -> StrictReport:
    """Compare every ok reference of ``document`` with the cached one, where the cache has it."""
    root = Path(cache_root) if cache_root else cache_dir("references")
    report = StrictReport(problems=no_op_problems(document))
    for key, metric, role, declared in _references(document):
        sha256 = document["models"][role].get("sha256")
        cached = (
            _cached(root / f"{_key(document, key, metric, role, sha256)}.json") if sha256 else None
        )
        if cached is None or cached.get("status") != "ok":
            report.unavailable += 1
            continue
        report.checked += 1
        path = f"$.metrics[{json.dumps(key)}].references.{role}"
        for label, number in _numbers(declared).items():
            expected = _numbers(cached).get(label)
            if expected is None or abs(number - expected) > TOLERANCE:
                report.problems.append(
                    (
                        f"{path}.{label}",
                        f"{number} differs from the cached {role} reference {expected} for "
                        f"benchmark revision {document['benchmark']['revision']}",
                    )
                )
    return report


def _references(document: dict[str, Any]) -> Iterator[tuple[str, dict, str, dict]]:
    for key, metric in document["metrics"].items():
        for role in ("clean", "compromised"):
            declared = metric["references"][role]
            if declared.get("status") == "ok":
                yield key, metric, role, declared


def _key(document: dict[str, Any], key: str, metric: dict[str, Any], role: str, sha256: str) -> str:
    benchmark = document["benchmark"]
    splits = benchmark["splits"]
    genknow = benchmark.get("genknow")
    return reference_key(
        sha256,
        (key, metric["version"]),
        {s: splits[s]["sha256"] for s in metric["splits"] if s in splits},
        (benchmark["name"], benchmark["revision"]),
        genknow_key(genknow),
        _settings(document["evaluation"]),
        document["harness"]["version"],
        document["environment"]["precision"],
    )


def _settings(evaluation: dict[str, Any]) -> dict[str, Any]:
    """The evaluation settings as the reference cache key holds them (see EvaluationSettings)."""
    settings = {"seed": evaluation["seed"], "bootstrap": evaluation["bootstrap"]}
    if "text_padding" in evaluation:
        settings["text_padding"] = evaluation["text_padding"]
    if "protocol" in evaluation:
        settings["protocol"] = evaluation["protocol"]
    return settings


def _cached(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _numbers(entry: dict[str, Any]) -> dict[str, float]:
    return {"value": entry["value"], **entry.get("values", {})}
