"""``sweep --plan``: the trial matrix, what is already done, and an estimate of the work."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

from harness.reports.leaderboard import parameters_label
from harness.sweeps import state
from harness.sweeps.spec import Sweep, Trial


@dataclass(frozen=True)
class Plan:
    """What a sweep will do: its size, each trial's status, and the work left."""

    header: str
    """One line: the sweep's name, benchmark and benchmark options."""
    size: str
    """One line: methods, settings, budgets, seeds, trials and resources per trial."""
    table: str
    """Settings x budgets, with each seed's status."""
    status: str
    """One line: trials done, failed and pending."""
    estimate: str
    """One line: the work left and, once a trial has finished, its time."""
    timed: bool
    """Whether ``estimate`` holds a time (a finished trial measured the pace)."""

    def text(self) -> str:
        """The plan as ``sweep --plan`` prints it."""
        return "\n".join([self.header, self.size, "", self.table, "", self.status, self.estimate])


def plan_text(sweep: Sweep, trials: list[Trial], root: Path, concurrency: int | None) -> str:
    """A table of settings x budgets with each seed's status, and the work left."""
    return plan_for(sweep, trials, root, concurrency).text()


def plan_for(sweep: Sweep, trials: list[Trial], root: Path, concurrency: int | None) -> Plan:
    """The ``Plan`` of ``trials`` given what ``root`` already holds."""
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
    estimate, timed = _estimate(todo, trials, statuses, root, concurrency)
    return Plan(
        header=f"sweep {sweep.name!r} on {sweep.benchmark} "
        f"{sweep.benchmark_options or ''}".rstrip(),
        size=f"{len(sweep.methods)} methods, {len({t.setting for t in trials})} settings, "
        f"{len(sweep.budgets)} budgets, {len(sweep.seeds)} seeds: {len(trials)} trials; "
        f"each trial uses {sweep.resources['cpus']:g} CPUs and {sweep.resources['gpus']:g} GPUs",
        table=tabulate(table, ["method", "parameters", "budget", "seed:status"]),
        status=f"{counts['done']} done, {counts['failed']} failed (run again), "
        f"{counts['pending']} pending: {len(todo)} trials to run",
        estimate=estimate,
        timed=timed,
    )


def _estimate(
    todo: list[Trial],
    trials: list[Trial],
    statuses: Mapping[str, str],
    root: Path,
    concurrency: int | None,
) -> tuple[str, bool]:
    units = sum(t.budget for t in todo)
    finished = [t for t in trials if statuses[t.key] == "done"]
    if not todo:
        return "nothing to run", True
    if not finished:
        return (
            f"work: {units:g} budget units of training (1 unit = one pass over the forget "
            "split) plus one evaluation per trial; the time estimate needs a finished trial"
        ), False
    documents = {t.key: state.load_result(root, t) for t in finished}

    def seconds_per_unit(done: list[Trial]) -> float:
        return statistics.fmean(
            documents[t.key]["cost"]["wall_seconds"] / documents[t.key]["budget"]["multiple"]
            for t in done
        )

    per_unit = seconds_per_unit(finished)
    # a schedule's trial evaluates once per round: its pace is its own schedule's, when known
    paces = {
        s: seconds_per_unit([t for t in finished if t.schedule == s])
        for s in {t.schedule for t in finished}
    }
    samples = next(iter(documents.values()))["budget"]["unit_samples"]
    seconds = sum(paces.get(t.schedule, per_unit) * t.budget for t in todo)
    seconds /= max(1, concurrency or 1)
    pace = f"{concurrency} at a time" if concurrency else "one at a time (Ray may run more)"
    return (
        f"work: {units:g} budget units ({units * samples:,.0f} training samples) plus "
        f"{len(todo)} evaluations; about {seconds / 60:.1f} min at the finished trials' "
        f"{per_unit:.0f} s per budget unit, {pace}"
    ), True
