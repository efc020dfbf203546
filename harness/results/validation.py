"""Checking result documents: JSON Schema first, then the rules a schema cannot express.

Nothing in a checked file is ever executed. Oversized files are refused before reading,
deeply nested ones while parsing, and NaN/Infinity literals
are reported with their JSON path.

Checking is fast enough for CI over thousands of files: the long per-row and per-identity
number arrays are checked in one pass each instead of one schema descent per number (the
schema stays the single source of truth; only ``{"type": "number"}`` containers take the
short cut, and any failure falls back to the schema's own error messages).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from harness.evaluation.scoring import normalised_score
from harness.metric import BOUNDS_TOLERANCE
from harness.storage import PROTOCOL_SCHEMA, RESULT_SCHEMA, load_schema

MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 32
TOLERANCE = BOUNDS_TOLERANCE


@dataclass(frozen=True)
class Problem:
    """One reason a file is invalid, located by a JSON path."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"file": self.file, "path": self.path, "message": self.message}


class _NonFinite:
    def __init__(self, literal: str) -> None:
        self.literal = literal


_NUMBER_SCHEMA = {"type": "number"}
_NUMBER_TYPES = {int, float}
_SCALAR_TYPES = {int, float, str, bool, type(None)}


def nesting_depth(node: Any) -> int:
    """Levels of arrays and objects in a parsed document (1 for a flat one, 0 for a scalar)."""
    if isinstance(node, dict):
        children: Any = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return 0
    if set(map(type, children)) <= _SCALAR_TYPES:  # one C-level pass over long number arrays
        return 1
    return 1 + max(nesting_depth(child) for child in children)


def _all_numbers(values: Any) -> bool:
    return set(map(type, values)) <= _NUMBER_TYPES


def _fast_validator_class() -> type[jsonschema.protocols.Validator]:
    base = jsonschema.Draft202012Validator
    items, additional = base.VALIDATORS["items"], base.VALIDATORS["additionalProperties"]

    def number_items(validator: Any, schema_items: Any, instance: Any, schema: Any) -> Any:
        if schema_items == _NUMBER_SCHEMA and isinstance(instance, list) and _all_numbers(instance):
            return
        yield from items(validator, schema_items, instance, schema)

    def number_values(validator: Any, schema_extra: Any, instance: Any, schema: Any) -> Any:
        if (
            schema_extra == _NUMBER_SCHEMA
            and isinstance(instance, dict)
            and not schema.get("properties")
            and not schema.get("patternProperties")
            and _all_numbers(instance.values())
        ):
            return
        yield from additional(validator, schema_extra, instance, schema)

    return jsonschema.validators.extend(
        base, {"items": number_items, "additionalProperties": number_values}
    )


_validator: Any = None


def validator() -> Any:
    """The result schema's validator, with the short cut for number containers."""
    global _validator
    if _validator is None:
        _validator = _fast_validator_class()(
            load_schema(RESULT_SCHEMA),
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
    return _validator


@cache
def _protocol_validator() -> Any:
    return jsonschema.Draft202012Validator(load_schema(PROTOCOL_SCHEMA))


def validate_file(path: Path) -> list[Problem]:
    """Every problem of the result file at ``path`` (empty when it is valid)."""
    name = str(path)
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        return [Problem(name, "$", f"cannot read the file: {exc.strerror or exc}")]
    if size > MAX_BYTES:
        return [Problem(name, "$", f"file is {size} bytes, over the {MAX_BYTES}-byte limit")]
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return [Problem(name, "$", f"not UTF-8 text: {exc.reason} at byte {exc.start}")]
    return validate_text(text, name)


def validate_text(text: str, name: str = "<document>") -> list[Problem]:
    """Every problem of a result document given as JSON text."""
    non_finite: list[_NonFinite] = []

    def constant(literal: str) -> _NonFinite:
        non_finite.append(_NonFinite(literal))
        return non_finite[-1]

    def finite_or_flagged(literal: str) -> float | _NonFinite:
        number = float(literal)
        if math.isfinite(number):
            return number
        return constant(f"{literal} (too large for a double)")

    try:
        document = json.loads(text, parse_constant=constant, parse_float=finite_or_flagged)
    except json.JSONDecodeError as exc:
        # a string that never closes runs to the end of the file, and a number cut short
        # ("0.") fails on its last characters: truncated there too
        end = text.rstrip()
        truncated = (
            exc.pos >= len(end)
            or exc.msg.startswith("Unterminated string")
            or (not end.endswith("}") and len(end) - exc.pos <= 32)
        )
        hint = " (the file is truncated)" if truncated else ""
        return [
            Problem(
                name,
                "$",
                f"not valid JSON{hint}: {exc.msg} at line {exc.lineno} column {exc.colno}",
            )
        ]
    except RecursionError:
        return [Problem(name, "$", "nested too deeply to be a result document")]
    try:
        if nesting_depth(document) > MAX_DEPTH:
            return [Problem(name, "$", f"nested deeper than {MAX_DEPTH} levels")]
    except RecursionError:
        return [Problem(name, "$", "nested too deeply to be a result document")]
    return validate_document(document, name, walk=bool(non_finite))


def validate_document(document: Any, name: str = "<document>", walk: bool = True) -> list[Problem]:
    """Every problem of a parsed result document.

    ``walk=False`` skips the search for non-finite numbers and excess depth, for documents
    parsed by ``validate_text``, which has already ruled both out.
    """
    if walk:
        problems = [Problem(name, p, m) for p, m in _structure(document)]
        if problems:
            return problems
    problems = []
    for error in validator().iter_errors(document):
        problems.append(Problem(name, _json_path(error.absolute_path), error.message))
    if not problems:
        problems = [Problem(name, p, m) for p, m in semantic_problems(document)]
    return problems


def _structure(node: Any, path: str = "$", depth: int = 0) -> Iterator[tuple[str, str]]:
    if depth > MAX_DEPTH:
        yield path, f"nested deeper than {MAX_DEPTH} levels"
        return
    if isinstance(node, _NonFinite):
        yield path, f"is {node.literal}; numbers in a result must be finite"
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _structure(value, _child(path, key), depth + 1)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _structure(value, f"{path}[{index}]", depth + 1)


def semantic_problems(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Rules beyond the schema: bounds, CIs around their estimate, references vs direction,
    normalised scores that agree with the values, and an error on failed results."""
    if document["status"] == "failed" and "error" not in document:
        yield "$.status", "a failed result must carry an error"
    if document["status"] == "ok" and document["models"]["evaluated"] is None:
        yield "$.models.evaluated", "a successful result must name the evaluated model"
    if document["kind"] == "schedule":
        yield from _schedule_problems(document.get("schedule") or {})
    protocol = document["evaluation"].get("protocol")
    if protocol is not None:
        for error in _protocol_validator().iter_errors(protocol):
            where = "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in error.path)
            yield f"$.evaluation.protocol{where}", f"not a valid protocol: {error.message}"
    for key, metric in document["metrics"].items():
        base = _child("$.metrics", key)
        bounds = metric.get("bounds")
        entries = {"": metric, **{f".references.{r}": v for r, v in metric["references"].items()}}
        for suffix, entry in entries.items():
            if entry.get("status") != "ok":
                continue
            numbers = {"value": entry["value"], **entry.get("values", {})}
            if bounds:
                for label, number in numbers.items():
                    if not bounds[0] - TOLERANCE <= number <= bounds[1] + TOLERANCE:
                        yield (
                            f"{base}{suffix}.{label}",
                            f"{number} is outside the metric's bounds {bounds}",
                        )
            for label, (low, high) in entry.get("ci", {}).items():
                point = numbers.get(label)
                if point is not None and not low - TOLERANCE <= point <= high + TOLERANCE:
                    yield (
                        f"{base}{suffix}.ci.{label}",
                        f"interval [{low}, {high}] does not contain its estimate {point}",
                    )
        clean, compromised = metric["references"]["clean"], metric["references"]["compromised"]
        if clean.get("status") == "ok" and compromised.get("status") == "ok":
            c, k = clean["value"], compromised["value"]
            if metric["target"] == "clean" and _strictly_better(metric["direction"], k, c):
                yield (
                    f"{base}.references",
                    f"Compromised ({k}) is better than Clean ({c}) although the metric aims "
                    f"at Clean with {metric['direction']} better: references are inconsistent",
                )
            if metric.get("status") == "ok" and "normalized" in metric:
                expected = normalised_score(metric["target"], metric["value"], c, k)["score"]
                stated = metric["normalized"]["score"]
                if stated is not None and (expected is None or abs(stated - expected) > 1e-4):
                    yield (
                        f"{base}.normalized.score",
                        f"{stated} does not agree with value and references ({expected})",
                    )


def _schedule_problems(section: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """A schedule's result holds one result per request, each valid on its own."""
    rounds = section.get("round_results")
    if not rounds:
        yield "$.schedule", "a schedule's result must hold its rounds' results (round_results)"
        return
    requests = section.get("requests") or []
    if len(rounds) != len(requests):
        yield (
            "$.schedule.round_results",
            f"{len(rounds)} round results for {len(requests)} requests",
        )
    for number, document in enumerate(rounds):
        where = f"$.schedule.round_results[{number}]"
        if document["kind"] == "schedule":
            yield f"{where}.kind", "a round's result cannot itself be a schedule's"
            continue
        for path, message in semantic_problems(document):
            yield where + path[1:], message


def _strictly_better(direction: str, a: float, b: float) -> bool:
    return a < b - TOLERANCE if direction == "lower" else a > b + TOLERANCE


def _child(path: str, key: Any) -> str:
    key = str(key)
    if key.isidentifier():
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key)}]"


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else _child(path, part)
    return path
