"""What a schedule's round measured, split by persona group, and what the sequence shows.

After each round, every metric that aims at the Clean model and keeps per-identity values (the
forgetting metrics) is split into the personas requested in this round, those requested in
earlier rounds (did they relapse?) and those not requested yet (they should stay at
Compromised). A group's value is the mean of its personas' per-identity values, each persona
counted once, read from the round's result and from the references' (nothing is encoded
again); its interval is a bootstrap over the group's personas; its score is the share of the
Compromised-to-Clean gap it closed, against the references' values on the same personas.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from harness.evaluation.scoring import normalised_score
from harness.evaluation.settings import BootstrapSettings
from harness.evaluation.statistics import bootstrap_ci

#: the persona groups a round's forgetting metrics are split into
GROUPS = ("requested", "earlier", "not_yet")


def group_of_personas(
    requests: Sequence[Sequence[str]], current: int, personas: Sequence[str] = ()
) -> dict[str, str]:
    """Each forget persona's group in round ``current`` (0-based): ``personas`` in no request
    (those a ``scaled`` schedule leaves out) are not requested yet."""
    if not 0 <= current < len(requests):
        raise ValueError(f"round {current} of a schedule of {len(requests)} requests")
    group_of = dict.fromkeys(personas, "not_yet")
    group_of.update({i: "earlier" for r in requests[:current] for i in r})
    group_of.update({i: "requested" for i in requests[current]})
    group_of.update({i: "not_yet" for r in requests[current + 1 :] for i in r})
    return group_of


def persona_groups(
    metrics: Mapping[str, Any],
    requests: Sequence[Sequence[str]],
    current: int,
    bootstrap: BootstrapSettings,
    personas: Sequence[str] = (),
) -> dict[str, Any]:
    """``{"groups": {KEY: {GROUP: ...}}, "by_request": {KEY: [...]}}`` for round ``current``:
    each forgetting metric's value, interval, reference values and gap closed per persona
    group, and per request (the latter tells which request relapsed); ``personas`` are every
    forget persona."""
    group_of = group_of_personas(requests, current, personas)
    groups: dict[str, Any] = {}
    by_request: dict[str, Any] = {}
    for key, entry in metrics.items():
        values = entry.get("per_identity")
        if entry.get("status") != "ok" or entry.get("target") != "clean" or not values:
            continue
        references = {
            role: entry["references"][role].get("per_identity") or {}
            for role in ("clean", "compromised")
        }
        members = {g: [i for i, group in group_of.items() if group == g] for g in GROUPS}
        groups[key] = {
            g: _group(key, g, values, references, members[g], entry["target"], bootstrap)
            for g in GROUPS
        }
        by_request[key] = [
            _group(key, None, values, references, list(r), entry["target"], None) for r in requests
        ]
    return {"groups": groups, "by_request": by_request}


def _group(
    key: str,
    group: str | None,
    values: Mapping[str, float],
    references: Mapping[str, Mapping[str, float]],
    personas: Sequence[str],
    target: str,
    bootstrap: BootstrapSettings | None,
) -> dict[str, Any]:
    present = sorted(p for p in personas if p in values)
    record: dict[str, Any] = {"personas": len(present), "value": None}
    if not present:
        return record
    numbers = [float(values[p]) for p in present]
    record["value"] = statistics.fmean(numbers)
    if bootstrap is not None:
        record["ci"] = list(bootstrap_ci(numbers, present, bootstrap, f"{key}/persona-{group}"))
    for role in ("clean", "compromised"):
        known = [float(references[role][p]) for p in present if p in references[role]]
        record[role] = statistics.fmean(known) if len(known) == len(present) else None
    if record["clean"] is not None and record["compromised"] is not None:
        score = normalised_score(target, record["value"], record["clean"], record["compromised"])
        record["score"] = score["score"]
    return record


def sequence_summary(rounds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What a sequence of round results shows, for the suite's forgetting and utility metrics:
    each round's gap closed per group and utility value; the worst relapse (a request's gap
    closed right after its round minus at the last round); the most gap closed on personas
    not requested yet; the utility's change from the first round to the last."""
    suite = rounds[-1].get("suite") or {}
    forgetting, utility = suite.get("forgetting"), suite.get("utility")
    per_round = []
    for number, document in enumerate(rounds, 1):
        groups = document["schedule"]["groups"].get(forgetting, {})
        used = document["metrics"].get(utility, {})
        per_round.append(
            {
                "round": number,
                **{g: groups.get(g, {}).get("score") for g in GROUPS},
                "utility": used.get("value") if used.get("status") == "ok" else None,
            }
        )
    relapse = None
    last = rounds[-1]["schedule"]["by_request"].get(forgetting)
    for request in range(len(rounds) - 1):
        then = rounds[request]["schedule"]["by_request"].get(forgetting)
        before = (then or [{}])[request].get("score") if then else None
        after = last[request].get("score") if last else None
        if before is not None and after is not None:
            drop = before - after
            if relapse is None or drop > relapse["drop"]:
                relapse = {"request": request + 1, "drop": drop, "then": before, "now": after}
    not_yet = [r["not_yet"] for r in per_round if r["not_yet"] is not None]
    utilities = [r["utility"] for r in per_round]
    change = (
        utilities[-1] - utilities[0]
        if len(rounds) > 1 and None not in (utilities[0], utilities[-1])
        else None
    )
    return {
        "forgetting": forgetting,
        "utility": utility,
        "rounds": per_round,
        "relapse": relapse,
        "not_yet_gap_closed": max(not_yet) if not_yet else None,
        "utility_change": change,
    }
