"""Fair selection: hyperparameters chosen on validation identities, numbers reported on others.

The forget identities are split once per sweep (seeded) into a validation subset and a
disjoint report subset. For each method and budget, the setting with the best mean objective
over its seeds *on the validation identities* is selected; its numbers are then reported on
the report identities only, where each identity-level metric is the mean of its per-identity
values (every identity weighs the same) and its normalised score uses the references restricted
to the same identities. Metrics without identities (GenKnow, FragSim) are reported as measured:
selection never sees anything identity-specific about them.

Objectives: ``hmean`` (default), the harmonic mean of the forgetting metric's gap closed on the
validation identities and the utility metric's retention (the metric suite the results declare
names both: RetFail and GenKnow for SALMUBench), each clipped to [0, 1], so a method must both
forget and keep its general knowledge; ``forget-first``, which ranks every setting that closes
at least ``FORGET_FIRST_GAP`` of the forgetting metric's gap above every setting that does not,
the former by the utility metric's retention and the latter by ``hmean`` (a method is reported
where it forgets, at its least damage, as a table of methods that all reach their target
reads, and at its best trade-off if it never forgets); or any metric key, whose normalised
score is maximised, on the validation identities for a metric of forget identities and on all
of its identities for a metric of identities outside the forget set (InterIdSim on
holdout_identity), as the report computes it.
"""

from __future__ import annotations

import copy
import json
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.evaluation.scoring import normalised_score
from harness.plugins import Registry, load_plugins
from harness.reports.leaderboard import Leaderboard, build_leaderboard
from harness.results.loading import LoadedResult, ResultSet, comparability
from harness.sweeps import state
from harness.sweeps.spec import SUITE_OBJECTIVES, Trial

Diagnose = Callable[[Mapping[str, Any], Mapping[str, float]], dict[str, Any]]
#: the share of the forgetting gap that counts as forgetting for ``forget-first`` (the same
#: threshold as SALMUBench's ineffective-forgetting rule)
FORGET_FIRST_GAP = 0.9


@dataclass(frozen=True)
class Selected:
    """The chosen setting of one method at one budget, and what the choice was made from."""

    method: str
    budget: float
    parameters: dict[str, Any] | None
    settings_tried: int
    trials: int
    trials_failed: int
    seeds: int
    validation_objective: float | None
    schedule: str | None = None
    """The deletion-request schedule the setting was chosen under (``None``: one-shot)."""

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


def identity_split(identities: list[str], fraction: float, seed: int) -> tuple[set[str], set[str]]:
    """Disjoint (validation, report) subsets of ``identities``; neither is empty."""
    ordered = sorted(identities)
    if len(ordered) < 2:
        raise HarnessError("a fair selection needs at least two forget identities")
    random.Random(f"selection:{seed}").shuffle(ordered)
    cut = min(max(1, round(len(ordered) * fraction)), len(ordered) - 1)
    return set(ordered[:cut]), set(ordered[cut:])


def objective(document: dict[str, Any], report: set[str], name: str = "hmean") -> float | None:
    """The selection objective of one result, blind to the ``report`` identities (higher is
    better): forget-identity metrics count the validation identities only; metrics of other
    identities (the holdout splits) count all of theirs, as the report does."""
    metrics = document["metrics"]
    if name in SUITE_OBJECTIVES:
        suite = document.get("suite")
        if not suite:
            raise HarnessError(
                f"the {name} objective needs results that declare a metric suite",
                "choose a metric key as the selection objective",
            )
        forget = _score(metrics.get(suite["forgetting"]), report)
        keep = _score(metrics.get(suite["utility"]), report)
        if forget is None or keep is None:
            return None
        forget, keep = min(max(forget, 0.0), 1.0), min(max(keep, 0.0), 1.0)
        if name == "forget-first" and forget >= FORGET_FIRST_GAP:
            return 1.0 + keep  # in [1, 2]: above the hmean of any setting short of the gap
        return 0.0 if forget + keep == 0 else 2 * forget * keep / (forget + keep)
    if name not in metrics:
        raise HarnessError(
            f"selection objective {name!r} is neither 'hmean' nor a metric key of the results",
            f"metric keys: {', '.join(metrics)}",
        )
    return _score(metrics[name], report)


def restrict(
    document: dict[str, Any], drop: set[str], diagnose: Diagnose | None = None
) -> dict[str, Any]:
    """A copy whose identity-level metrics cover only identities not in ``drop``.

    Values become the mean of the remaining per-identity values, normalised scores and (with
    the suite's ``diagnose``) the diagnosis are recomputed, and intervals (which covered every
    identity) are removed; without ``diagnose`` the diagnosis, which no longer holds, is
    dropped. A metric none of whose identities remain is marked skipped: it cannot be reported
    fairly.
    """
    out = copy.deepcopy(document)
    if out.get("schedule"):  # its rounds and summary cover every identity: only the name stays
        out["schedule"] = {k: out["schedule"][k] for k in ("name", "kind", "seed")}
    for entry in out["metrics"].values():
        if entry.get("status") != "ok" or not entry.get("per_identity"):
            continue
        if not _restrict_entry(entry, drop):
            _mark_unavailable(entry)
            continue
        for reference in entry["references"].values():
            has_identities = reference.get("status") == "ok" and reference.get("per_identity")
            if has_identities and not _restrict_entry(reference, drop):
                _mark_unavailable(reference)
        clean, compromised = entry["references"]["clean"], entry["references"]["compromised"]
        if clean.get("status") == compromised.get("status") == "ok":
            entry["normalized"] = normalised_score(
                entry["target"], entry["value"], clean["value"], compromised["value"]
            )
    if "diagnosis" in out:
        if diagnose is None:
            del out["diagnosis"]
        else:
            out["diagnosis"] = diagnose(out["metrics"], out["diagnosis"]["rules"])
    return out


def forget_identities(documents: list[dict[str, Any]]) -> list[str]:
    """The forget identities, from the per-identity values of the suite's per-identity metric
    (references first)."""
    found: set[str] = set()
    keys = {(d.get("suite") or {}).get("per_identity") for d in documents} - {None}
    for document in documents:
        for key in keys:
            entry = document["metrics"].get(key) or {}
            for source in (entry.get("references", {}).get("clean", {}), entry):
                found |= set(source.get("per_identity") or {})
    if not found:
        raise HarnessError(
            "no per-identity values of the suite's per-identity metric in the sweep's results: "
            "the identity split needs them",
            "include that metric (SALMUBench: 1.1, RetFail) in the sweep's metrics",
        )
    return sorted(found)


def sweep_report(
    root: Path,
    registry: Registry | None = None,
    rules: Mapping[str, float] | None = None,
    objective_name: str | None = None,
) -> tuple[list[Selected], Leaderboard, dict[str, Any]]:
    """The selected setting per method and budget, and their leaderboard on report identities.

    ``rules`` overrides thresholds of the suite's diagnosis rules when the report identities'
    diagnosis is recomputed (the selection itself never reads the diagnosis);
    ``objective_name`` selects with that objective instead of the sweep's own."""
    registry = registry or load_plugins()
    sweep, trials = state.read_sweep(root)
    if objective_name is not None:
        sweep.selection = {**sweep.selection, "objective": objective_name}
    statuses = state.statuses(root, trials)
    finished = [t for t in trials if statuses[t.key] == "done"]
    if not finished:
        raise HarnessError(f"no finished trial in {root}", "run `salmu-harness sweep FILE` first")
    documents = {t.key: state.load_result(root, t) for t in finished}
    documents, stale = _comparable(documents)
    validation, report = identity_split(
        forget_identities(list(documents.values())),
        sweep.selection["validation_fraction"],
        sweep.seed,
    )
    chosen, selected_results = [], []
    groups: dict[tuple[str, float, str | None], list[Trial]] = defaultdict(list)
    for trial in trials:  # each schedule is chosen for separately: they answer other questions
        groups[(trial.method, trial.budget, trial.schedule)].append(trial)
    for (method, budget, schedule), members in groups.items():
        best = _best_setting(members, documents, report, sweep.selection["objective"])
        setting, score, seeds = best if best else (None, None, [])
        chosen.append(
            Selected(
                method=method,
                budget=budget,
                parameters=next((t.parameters for t in members if t.setting == setting), None),
                settings_tried=len({t.setting for t in members}),
                trials=len(members),
                trials_failed=sum(statuses[t.key] == "failed" for t in members),
                seeds=len(seeds),
                validation_objective=score,
                schedule=schedule,
            )
        )
        for trial in seeds:
            path = state.trial_dir(root, trial) / "result.json"
            document = documents[trial.key]
            suite = registry.suites.get((document.get("suite") or {}).get("name", ""))
            diagnose = suite[0].diagnose if suite else None
            if diagnose is not None and rules:
                diagnose = _with_rules(diagnose, rules)
            selected_results.append(LoadedResult(path, restrict(document, validation, diagnose)))
    if not selected_results:
        raise HarnessError(
            f"no finished trial in {root} has a usable {sweep.selection['objective']!r} objective",
            "check the trials' errors (trials/*/error.json) and the sweep's metrics",
        )
    board = build_leaderboard(ResultSet(selected_results))
    split = {
        "validation_identities": len(validation),
        "report_identities": len(report),
        "objective": sweep.selection["objective"],
        "trials": len(trials),
        "finished": len(finished),
        "stale": stale,
    }
    return chosen, board, split


def _with_rules(diagnose: Diagnose, rules: Mapping[str, float]) -> Diagnose:
    def rediagnose(metrics: Mapping[str, Any], given: Mapping[str, float]) -> dict[str, Any]:
        return diagnose(metrics, {**given, **rules})

    return rediagnose


def _comparable(
    documents: dict[str, dict[str, Any]],
) -> tuple[dict[str, dict[str, Any]], int]:
    """The results of the largest comparable group (a changed benchmark or metric makes older
    trials stale), and how many were left out."""
    bases = {key: json.dumps(comparability(d), sort_keys=True) for key, d in documents.items()}
    majority = Counter(bases.values()).most_common(1)[0][0]
    kept = {key: d for key, d in documents.items() if bases[key] == majority}
    return kept, len(documents) - len(kept)


def _best_setting(
    members: list[Trial], documents: dict[str, dict[str, Any]], report: set[str], name: str
) -> tuple[str, float, list[Trial]] | None:
    """The setting with the most finished seeds, then the best mean objective over them."""
    by_setting: dict[str, list[Trial]] = defaultdict(list)
    for trial in members:
        if trial.key in documents:
            by_setting[trial.setting].append(trial)
    best, best_rank = None, None
    for setting, trials in sorted(by_setting.items()):
        found = [(t, objective(documents[t.key], report, name)) for t in trials]
        scored = [(t, v) for t, v in found if v is not None]
        if not scored:
            continue
        mean = statistics.fmean(v for _, v in scored)
        rank = (len(scored), mean)  # a lucky single seed never beats a complete setting
        if best_rank is None or rank > best_rank:
            best, best_rank = (setting, mean, [t for t, _ in scored]), rank
    return best


def _score(entry: dict[str, Any] | None, report: set[str]) -> float | None:
    if not entry or entry.get("status") != "ok":
        return None
    if entry.get("per_identity") and report & set(entry["per_identity"]):
        entry = restrict({"metrics": {"m": entry}}, report)["metrics"]["m"]
        if entry.get("status") != "ok":
            return None  # every one of its identities is a report identity
    normalized = entry.get("normalized") or {}
    return normalized.get("score")


def _restrict_entry(entry: dict[str, Any], drop: set[str]) -> bool:
    kept = {i: v for i, v in entry["per_identity"].items() if i not in drop}
    if not kept:
        return False
    entry["per_identity"] = kept
    entry["value"] = statistics.fmean(kept.values())
    entry.pop("values", None)
    entry.pop("ci", None)
    entry.pop("per_row", None)
    return True


def _mark_unavailable(entry: dict[str, Any]) -> None:
    for field_name in ("value", "values", "ci", "per_row", "per_identity", "normalized"):
        entry.pop(field_name, None)
    entry["status"] = "skipped"
    entry["reason"] = "none of its identities is on this side of the validation/report split"
