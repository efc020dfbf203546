"""Which failure modes of repeated deletion requests a schedule result shows, by explicit rules.

Read from the sequence summary (``schedule.summary``: RetFail's gap closed per persona group
and round, GenKnow per round):

- relapse: a request's personas lost more than ``relapse_drop`` of the gap they had closed
  right after their round by the last round (knowledge came back while later requests were
  served);
- collateral forgetting: in some round, the personas not requested yet had closed more than
  ``collateral_gap`` of their Compromised-to-Clean gap (the method forgot people nobody asked
  it to forget);
- utility erosion: GenKnow fell more than ``erosion_drop`` (absolute) from the first round to
  the last.

A rule that the schedule cannot decide (one round; no persona left unrequested) is recorded as
undecided with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.builtin.salmubench.diagnosis import finding

#: thresholds of the schedule rules (override with ``--rule KEY=VALUE``)
SCHEDULE_RULES: dict[str, float] = {
    "relapse_drop": 0.1,
    "collateral_gap": 0.25,
    "erosion_drop": 0.01,
}
LABELS = {
    "relapse": "relapse",
    "collateral_forgetting": "collateral forgetting",
    "utility_erosion": "utility erosion",
}


def _finding(
    mode: str, rule: str, shown: bool | None, reason: str | None = None, **evidence: Any
) -> dict[str, Any]:
    return finding(mode, LABELS[mode], rule, shown, reason, **evidence)


def diagnose_schedule(summary: Mapping[str, Any], given: Mapping[str, float]) -> dict[str, Any]:
    """The ``schedule.diagnosis`` section: each rule's finding, from the sequence summary."""
    rules = {**SCHEDULE_RULES, **{k: v for k, v in given.items() if k in SCHEDULE_RULES}}
    rounds = summary["rounds"]
    findings = []
    rule = f"a request's RetFail gap closed falls > {rules['relapse_drop']:g} by the last round"
    relapse = summary.get("relapse")
    if relapse is None:
        findings.append(
            _finding("relapse", rule, None, reason="needs two rounds or more with RetFail")
        )
    else:
        findings.append(
            _finding("relapse", rule, relapse["drop"] > rules["relapse_drop"], **relapse)
        )
    rule = f"personas not requested yet: RetFail gap closed > {rules['collateral_gap']:g}"
    worst = summary.get("not_yet_gap_closed")
    if worst is None:
        findings.append(
            _finding(
                "collateral_forgetting",
                rule,
                None,
                reason="no round left personas unrequested (or RetFail is missing)",
            )
        )
    else:
        by_round = {r["round"]: r["not_yet"] for r in rounds if r["not_yet"] is not None}
        findings.append(
            _finding(
                "collateral_forgetting",
                rule,
                worst > rules["collateral_gap"],
                gap_closed=worst,
                by_round=by_round,
            )
        )
    rule = f"GenKnow falls > {rules['erosion_drop']:g} from the first round to the last"
    change = summary.get("utility_change")
    if change is None:
        findings.append(
            _finding("utility_erosion", rule, None, reason="needs two rounds or more with GenKnow")
        )
    else:
        findings.append(
            _finding(
                "utility_erosion",
                rule,
                -change > rules["erosion_drop"],
                change=change,
                by_round={r["round"]: r["utility"] for r in rounds},
            )
        )
    return {
        "rules": rules,
        "findings": findings,
        "modes": [f["mode"] for f in findings if f["shown"]],
    }
