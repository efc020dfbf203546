"""Fuzzing ``validate`` with mutated result files (hypothesis).

Three properties: it never crashes; a mutation that must break a file (a required field gone,
a NaN, a truncation, a wrong type) is always rejected; and on any mutation its verdict equals
that of the plain JSON Schema validator plus the result rules restated independently, so
neither the fast paths for long number arrays nor a slip in the harness's rules lets an
invalid file through.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.results.validation import MAX_DEPTH, nesting_depth, validate_file, validate_text
from harness.storage import PROTOCOL_SCHEMA, RESULT_SCHEMA, load_schema

REFERENCE = jsonschema.Draft202012Validator(
    load_schema(RESULT_SCHEMA), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
PROTOCOL = jsonschema.Draft202012Validator(load_schema(PROTOCOL_SCHEMA))
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def original(compared_results) -> dict:
    return compared_results[0].document


def paths_of(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths_of(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:3]):  # a few items of long arrays are enough
            found += paths_of(value, (*prefix, index))
    return found


def replace(document: dict, path: tuple, value: Any) -> dict:
    mutated = copy.deepcopy(document)
    if not path:
        return value
    parent = mutated
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return mutated


def delete(document: dict, path: tuple) -> dict:
    mutated = copy.deepcopy(document)
    parent = mutated
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return mutated


def has_non_finite(node: Any) -> bool:
    if isinstance(node, float):
        return not math.isfinite(node)
    if isinstance(node, dict):
        return any(has_non_finite(v) for v in node.values())
    if isinstance(node, list):
        return any(has_non_finite(v) for v in node)
    return False


def rules_hold(document: dict) -> bool:
    """The result rules beyond the schema (docs/results.md), restated here from their
    definitions rather than by calling the harness's implementation of them."""
    if document["status"] == "failed" and "error" not in document:
        return False
    if document["status"] == "ok" and document["models"]["evaluated"] is None:
        return False
    protocol = document["evaluation"].get("protocol")
    if protocol is not None and not PROTOCOL.is_valid(protocol):
        return False
    slack = 1e-6
    for metric in document["metrics"].values():
        bounds = metric.get("bounds")
        for entry in (metric, metric["references"]["clean"], metric["references"]["compromised"]):
            if entry.get("status") != "ok":
                continue
            numbers = {"value": entry["value"], **entry.get("values", {})}
            if bounds and any(
                not bounds[0] - slack <= n <= bounds[1] + slack for n in numbers.values()
            ):
                return False
            for name, (low, high) in entry.get("ci", {}).items():
                if name in numbers and not low - slack <= numbers[name] <= high + slack:
                    return False
        clean, compromised = metric["references"]["clean"], metric["references"]["compromised"]
        if clean.get("status") != "ok" or compromised.get("status") != "ok":
            continue
        c, k = clean["value"], compromised["value"]
        # an efficacy metric's Compromised reference is never better than Clean, its goal
        better = k < c - slack if metric["direction"] == "lower" else k > c + slack
        if metric["target"] == "clean" and better:
            return False
        stated = (metric.get("normalized") or {}).get("score")
        if metric.get("status") == "ok" and "normalized" in metric and stated is not None:
            if metric["target"] == "clean":
                expected = None if abs(k - c) < 1e-6 else (k - metric["value"]) / (k - c)
            else:
                expected = None if abs(k) < 1e-6 else metric["value"] / k
            if expected is None or abs(stated - expected) > 1e-4:
                return False
    return True


def reference_verdict(document: Any) -> bool:
    """True when the plain schema validator and the restated rules accept ``document``."""
    if has_non_finite(document) or nesting_depth(document) > MAX_DEPTH + 1:
        return False
    if any(True for _ in REFERENCE.iter_errors(document)):
        return False
    return rules_hold(document)


@FUZZ
@given(data=st.data())
def test_any_value_anywhere_gets_the_reference_verdict(original, data) -> None:
    path = data.draw(st.sampled_from(paths_of(original)))
    mutated = replace(original, path, data.draw(json_values))
    problems = validate_text(json.dumps(mutated, allow_nan=True))
    assert isinstance(problems, list)
    assert (problems == []) == reference_verdict(mutated), (path, problems)


@FUZZ
@given(data=st.data())
def test_numbers_in_long_arrays_are_checked_one_by_one(original, data) -> None:
    key = data.draw(st.sampled_from(sorted(original["metrics"])))
    rows = original["metrics"][key]["per_row"]["value"]
    index = data.draw(st.integers(0, len(rows) - 1))
    bad = data.draw(st.none() | st.text(max_size=3) | st.booleans() | st.just(float("nan")))
    mutated = replace(original, ("metrics", key, "per_row", "value", index), bad)
    problems = validate_text(json.dumps(mutated, allow_nan=True))
    assert problems and f'$.metrics["{key}"].per_row.value[{index}]' in problems[0].path


@FUZZ
@given(data=st.data())
def test_a_missing_required_field_is_always_rejected(original, data) -> None:
    key = data.draw(st.sampled_from(REFERENCE.schema["required"]))
    assert validate_text(json.dumps(delete(original, (key,))))


@FUZZ
@given(data=st.data())
def test_truncated_or_corrupted_text_is_rejected_without_crashing(original, data) -> None:
    text = json.dumps(original)
    cut = data.draw(st.integers(0, len(text) - 1))
    assert validate_text(text[:cut])
    position = data.draw(st.integers(0, len(text) - 1))
    junk = data.draw(st.text(min_size=1, max_size=4))
    problems = validate_text(text[:position] + junk + text[position + 1 :])
    assert isinstance(problems, list)


def test_every_file_the_harness_wrote_is_accepted(compared_results) -> None:
    for outcome in compared_results:
        assert validate_file(outcome.result_path) == []
