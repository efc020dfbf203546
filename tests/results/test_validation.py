"""Validation of result documents: schema, NaN, truncation, limits and semantic rules."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from harness.results.validation import MAX_DEPTH, validate_document, validate_file, validate_text


@pytest.fixture
def document(finetune_outcome) -> dict:
    return copy.deepcopy(finetune_outcome.document)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "result.json"
    path.write_text(text)
    return path


def test_every_file_the_harness_writes_validates(finetune_outcome) -> None:
    assert validate_file(finetune_outcome.result_path) == []


def test_missing_required_field(document, tmp_path: Path) -> None:
    del document["benchmark"]
    problems = validate_file(write(tmp_path, json.dumps(document)))
    assert [(p.path, p.message) for p in problems] == [("$", "'benchmark' is a required property")]


def test_wrong_type_is_located(document, tmp_path: Path) -> None:
    document["metrics"]["1.2"]["value"] = "0.3"
    problems = validate_file(write(tmp_path, json.dumps(document)))
    assert problems and problems[0].path == '$.metrics["1.2"].value'
    assert "'0.3' is not of type 'number'" in problems[0].message


def test_nan_metric_value_is_rejected_with_its_path(document, tmp_path: Path) -> None:
    document["metrics"]["1.1"]["value"] = float("nan")
    path = write(tmp_path, json.dumps(document))
    problems = validate_file(path)
    assert [p.path for p in problems] == ['$.metrics["1.1"].value']
    assert "is NaN" in problems[0].message and problems[0].file == str(path)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_file_says_so(finetune_outcome, tmp_path: Path, fraction: float) -> None:
    text = finetune_outcome.result_path.read_text()
    problems = validate_file(write(tmp_path, text[: int(len(text) * fraction)]))
    assert len(problems) == 1 and "(the file is truncated)" in problems[0].message


def test_semantic_rules(document) -> None:
    metric = document["metrics"]["1.2"]
    metric["value"] = 1.5  # outside [-1, 1]
    messages = [p.message for p in validate_document(document)]
    assert any("outside the metric's bounds" in m for m in messages)
    document["metrics"]["1.2"]["value"] = 0.1
    document["metrics"]["1.2"]["ci"]["value"] = [0.2, 0.3]
    messages = [p.message for p in validate_document(document)]
    assert any("does not contain its estimate 0.1" in m for m in messages)


def test_references_that_contradict_the_direction(document) -> None:
    refs = document["metrics"]["1.2"]["references"]
    refs["clean"]["value"], refs["compromised"]["value"] = 0.9, 0.1
    messages = [p.message for p in validate_document(document)]
    assert any("references are inconsistent" in m for m in messages)


def test_normalised_score_must_agree(document) -> None:
    document["metrics"]["2.2"]["normalized"]["score"] = 0.123456
    paths = [p.path for p in validate_document(document)]
    assert '$.metrics["2.2"].normalized.score' in paths


def test_deeply_nested_and_oversized_inputs(tmp_path: Path, monkeypatch) -> None:
    deep = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    assert "nested deeper" in validate_text(deep)[0].message
    assert "nested too deeply" in validate_text("[" * 100000 + "]" * 100000)[0].message
    monkeypatch.setattr("harness.results.validation.MAX_BYTES", 10)
    assert "over the 10-byte limit" in validate_file(write(tmp_path, "{}" * 10))[0].message


def test_not_a_json_object(tmp_path: Path) -> None:
    assert validate_text("[]")[0].message == "[] is not of type 'object'"
    assert "cannot read" in validate_file(tmp_path / "absent.json")[0].message


def test_overflowing_numbers_extra_references_and_missing_models_are_rejected(document) -> None:
    text = json.dumps(document).replace(json.dumps(document["metrics"]["1.1"]["value"]), "1e400", 1)
    problems = validate_text(text)
    assert [p.path for p in problems] == ['$.metrics["1.1"].value']
    assert "too large for a double" in problems[0].message
    extra = copy.deepcopy(document)
    extra["metrics"]["1.1"]["references"]["paper"] = {"status": "ok"}
    assert "'paper' was unexpected" in validate_document(extra)[0].message
    unnamed = copy.deepcopy(document)
    unnamed["models"]["evaluated"] = None
    assert [p.path for p in validate_document(unnamed)] == ["$.models.evaluated"]


@pytest.mark.parametrize("cut", ['{"a": 0.', '{"a": -', '{"a": 1e', '{"a": [1, 2', '{"a": tru'])
def test_a_file_cut_inside_a_token_is_called_truncated(tmp_path: Path, cut: str) -> None:
    problems = validate_file(write(tmp_path, cut))
    assert len(problems) == 1 and "(the file is truncated)" in problems[0].message, problems


def test_a_complete_file_with_a_syntax_error_is_not_called_truncated(tmp_path: Path) -> None:
    problems = validate_file(write(tmp_path, '{"a": 1,, "b": 2}'))
    assert "truncated" not in problems[0].message
