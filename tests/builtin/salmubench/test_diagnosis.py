"""The failure-mode rules on hand-made metric sections, shallow forgetting in particular."""

from __future__ import annotations

import pytest

from harness.builtin.salmubench.diagnosis import DEFAULT_RULES, diagnose


def entry(name: str, score: float) -> dict:
    ok = {"status": "ok", "value": 0.0}
    return {
        "name": name,
        **ok,
        "references": {"clean": ok, "compromised": ok},
        "normalized": {"score": score},
    }


def shallow(metrics: dict, **rules: float) -> dict:
    findings = diagnose(metrics, rules)["findings"]
    return next(f for f in findings if f["mode"] == "shallow_forgetting")


def test_shallow_when_the_gap_is_closed_but_an_attack_reopens_it() -> None:
    metrics = {"1.1": entry("RetFail", 0.97), "3.1": entry("Relearn", 0.3)}
    finding = shallow(metrics)
    assert finding["shown"] is True
    assert finding["evidence"] == {"gap_closed": 0.97, "reopened": {"Relearn": 0.7}}
    assert "shallow_forgetting" in diagnose(metrics, {})["modes"]
    assert "0.9" in finding["rule"] and "0.5" in finding["rule"]


@pytest.mark.parametrize(
    ("retfail", "relearn", "quantize", "shown"),
    [
        (0.97, 0.6, 0.95, False),  # both attacks leave most of the gap closed
        (0.97, 0.6, 0.4, True),  # quantization alone reopens 60%
        (0.5, 0.0, 0.0, False),  # never closed: ineffective, not shallow
        (0.9, 0.5, 1.0, False),  # exactly half reopened is not more than half
    ],
)
def test_either_attack_decides_and_the_thresholds_are_strict(
    retfail: float, relearn: float, quantize: float, shown: bool
) -> None:
    metrics = {
        "1.1": entry("RetFail", retfail),
        "3.1": entry("Relearn", relearn),
        "3.2": entry("Quantize", quantize),
    }
    assert shallow(metrics)["shown"] is shown


def test_rules_can_be_overridden_and_are_recorded() -> None:
    metrics = {"1.1": entry("RetFail", 0.97), "3.1": entry("Relearn", 0.7)}
    assert shallow(metrics)["shown"] is False
    assert shallow(metrics, shallow_restored=0.2)["shown"] is True
    rules = diagnose(metrics, {"shallow_restored": 0.2})["rules"]
    assert rules == {**DEFAULT_RULES, "shallow_restored": 0.2}


def test_not_assessed_when_an_attack_failed_and_absent_when_none_was_asked() -> None:
    for metrics in (
        {"1.1": entry("RetFail", 0.97), "3.1": {"name": "Relearn", "status": "failed"}},
        {"3.1": entry("Relearn", 0.1)},
    ):
        finding = shallow(metrics)
        assert finding["shown"] is None and "--metrics robustness" in finding["reason"]
    modes = [f["mode"] for f in diagnose({"1.1": entry("RetFail", 0.97)}, {})["findings"]]
    assert "shallow_forgetting" not in modes and len(modes) == 3
