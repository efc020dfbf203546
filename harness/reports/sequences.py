"""A leaderboard row's summary of a deletion-request schedule: its rounds, averaged over the
row's seeds, and the few numbers its leaderboard cell shows."""

from __future__ import annotations

import statistics
from typing import Any


def sequence_of(documents: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The summary of a schedule's rounds, each number the mean over the row's seeds (a seed
    without the number is left out of its mean)."""
    found = [(d.get("schedule") or {}).get("summary") for d in documents]
    summaries: list[dict[str, Any]] = [s for s in found if s]
    if not summaries or len(summaries) < len(found):
        return None
    first = summaries[0]
    rounds = []
    for index, record in enumerate(first["rounds"]):
        same = [s["rounds"][index] for s in summaries if len(s["rounds"]) > index]
        rounds.append(
            {"round": record["round"], **{k: _mean(r[k] for r in same) for k in SEQUENCE_KEYS}}
        )
    section = documents[0]["schedule"]
    return {
        "schedule": section["name"],
        "kind": section["kind"],
        "fraction": section.get("fraction"),
        "forgetting": first["forgetting"],
        "utility": first["utility"],
        "rounds": rounds,
        "not_yet_gap_closed": _mean(s["not_yet_gap_closed"] for s in summaries),
        "relapse": _mean((s["relapse"] or {}).get("drop") for s in summaries),
        "utility_change": _mean(s["utility_change"] for s in summaries),
    }


#: what each round of a schedule's summary holds
SEQUENCE_KEYS = ("requested", "earlier", "not_yet", "utility")


def _mean(values: Any) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def sequence_text(sequence: dict[str, Any] | None) -> str:
    """A schedule row's summary (``Row.sequence``): the gap closed on the last request's
    personas, the most closed on personas not requested yet, the worst relapse (a drop of an
    earlier request's gap closed; none when no request lost any), the utility's change from the
    first round to the last."""
    if not sequence:
        return ""
    parts = []
    requested = sequence["rounds"][-1]["requested"]
    if requested is not None:
        parts.append(f"requested {requested:.0%} closed")
    if sequence["not_yet_gap_closed"] is not None:
        parts.append(f"not yet {sequence['not_yet_gap_closed']:.0%} closed")
    relapse = sequence["relapse"]
    if relapse is not None:
        parts.append(f"relapse {relapse:.0%}" if relapse > 0 else "no relapse")
    if sequence["utility_change"] is not None:
        parts.append(f"{sequence['utility']} {sequence['utility_change']:+.3f}")
    return ", ".join(parts) or f"{len(sequence['rounds'])} round(s)"
