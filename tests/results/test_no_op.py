"""No-op detection: unchanged weights, or every metric equal to the Compromised reference."""

from __future__ import annotations

from harness.results.no_op import metrics_equal_compromised, no_op_problems, no_op_warnings


def entry(value: float, compromised: float, status: str = "ok") -> dict:
    return {
        "status": status,
        "value": value,
        "references": {"compromised": {"status": "ok", "value": compromised}},
    }


def test_every_metric_within_1e_9_of_compromised_is_a_no_op() -> None:
    assert metrics_equal_compromised({"a": entry(0.5, 0.5 + 5e-10), "b": entry(0.1, 0.1)})
    assert not metrics_equal_compromised({"a": entry(0.5, 0.5), "b": entry(0.1, 0.1 + 1e-6)})
    # failed metrics are not evidence either way; no comparable metric is not a no-op
    assert metrics_equal_compromised({"a": entry(0.5, 0.5), "b": entry(0.0, 1.0, "failed")})
    assert not metrics_equal_compromised({"b": entry(0.0, 1.0, "failed")})


def test_warnings_name_the_kind_of_no_op() -> None:
    same = {"a": entry(0.5, 0.5)}
    assert [w["code"] for w in no_op_warnings(False, same)] == ["weights-unchanged"]
    assert [w["code"] for w in no_op_warnings(True, same)] == ["metrics-unchanged"]
    assert no_op_warnings(True, {"a": entry(0.4, 0.5)}) == []


def test_strict_validation_flags_recorded_and_unrecorded_no_ops() -> None:
    changed = {"kind": "run", "status": "ok", "metrics": {"a": entry(0.4, 0.5)}}
    assert no_op_problems(changed) == []
    recorded = {**changed, "warnings": [{"code": "weights-unchanged", "message": "m"}]}
    assert no_op_problems(recorded)[0][0] == "$.warnings"
    # a result written before no-op warnings existed is still caught by its numbers
    silent = {"kind": "run", "status": "ok", "metrics": {"a": entry(0.5, 0.5)}}
    assert no_op_problems(silent)[0][0] == "$.metrics"
    # evaluating the Compromised checkpoint itself is not a run and not a no-op
    assert no_op_problems({**silent, "kind": "evaluate"}) == []
