"""``sweep --plan``: the trial matrix, what is already done, and an estimate of the work."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from tabulate import tabulate

from harness.reports.leaderboard import parameters_label
from harness.sweeps import state
from harness.sweeps.spec import Sweep, Trial


def plan_text(sweep: Sweep, trials: list[Trial], root: Path, concurrency: int | None) -> str:
    """A table of settings x budgets with each seed's status, and the work left."""
    statuses = state.statuses(root, trials)
    rows: dict[tuple[str, str, float], list[str]] = defaultdict(list)
    for trial in trials:
        rows[(trial.method, trial.setting, trial.budget)].append(
            f"{trial.seed}:{statuses[trial.key]}"
        )
    parameters = {t.setting: t.parameters for t in trials}
    table = [
        [method, parameters_label(parameters[setting]), f"{budget:g}x", "  ".join(seeds)]
        for (method, setting, budget), seeds in rows.items()
    ]
    counts = {s: sum(v == s for v in statuses.values()) for s in ("done", "failed", "pending")}
    todo = [t for t in trials if statuses[t.key] != "done"]
    lines = [
        f"sweep {sweep.name!r} on {sweep.benchmark} {sweep.benchmark_options or ''}".rstrip(),
        f"{len(sweep.methods)} methods, {len({t.setting for t in trials})} settings, "
        f"{len(sweep.budgets)} budgets, {len(sweep.seeds)} seeds: {len(trials)} trials; "
        f"each trial uses {sweep.resources['cpus']:g} CPUs and {sweep.resources['gpus']:g} GPUs",
        "",
        tabulate(table, ["method", "parameters", "budget", "seed:status"]),
        "",
        f"{counts['done']} done, {counts['failed']} failed (run again), "
        f"{counts['pending']} pending: {len(todo)} trials to run",
        _estimate(todo, trials, statuses, root, concurrency),
    ]
    return "\n".join(lines)


def _estimate(
    todo: list[Trial],
    trials: list[Trial],
    statuses: Mapping[str, str],
    root: Path,
    concurrency: int | None,
) -> str:
    units = sum(t.budget for t in todo)
    finished = [t for t in trials if statuses[t.key] == "done"]
    if not todo:
        return "nothing to run"
    if not finished:
        return (
            f"work: {units:g} budget units of training (1 unit = one pass over the forget "
            "split) plus one evaluation per trial; the time estimate needs a finished trial"
        )
    documents = [state.load_result(root, t) for t in finished]
    per_unit = statistics.fmean(
        d["cost"]["wall_seconds"] / d["budget"]["multiple"] for d in documents
    )
    samples = documents[0]["budget"]["unit_samples"]
    seconds = per_unit * units / max(1, concurrency or 1)
    pace = f"{concurrency} at a time" if concurrency else "one at a time (Ray may run more)"
    return (
        f"work: {units:g} budget units ({units * samples:,.0f} training samples) plus "
        f"{len(todo)} evaluations; about {seconds / 60:.1f} min at the finished trials' "
        f"{per_unit:.0f} s per budget unit, {pace}"
    )
