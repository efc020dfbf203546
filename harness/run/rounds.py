"""Running a deletion-request schedule round by round, and evaluating a schedule's checkpoints.

Each round unlearns one request, starting from the previous round's model (the first from
Compromised), and is evaluated on the whole benchmark; its result records the persona groups
(``harness.run.request_groups``). The schedule's result (kind ``schedule``) holds the last
round's sections, so that every report reads it as the model the sequence ends with, and under
``schedule`` every round's result, the summary of the sequence and its diagnosis::

    OUTPUT/RUN_ID/result.json        the schedule's result
    OUTPUT/RUN_ID/run.log            every round's log records
    OUTPUT/RUN_ID/round-N/           round N's result.json and model/

A round whose result and model are there is not run again: an interrupted schedule, run again
with the same ``--run-id``, resumes after its last finished round.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, ParameterError
from harness.evaluation.settings import BootstrapSettings
from harness.plugins import Registry
from harness.results.document import assemble, base_document, now
from harness.results.files import refuse_overwrite, write_result
from harness.results.layout import new_run_id, round_folder, run_folder
from harness.run.checkpoints import evaluate_checkpoints, evaluation_session
from harness.run.logs import run_log
from harness.run.plan import Plan, load_for, prepare, schedule_diagnosis_of
from harness.run.request_groups import persona_groups, sequence_summary
from harness.run.round_folders import check_recorded_requests, finished_round, round_checkpoints
from harness.run.schedules import Schedule, forget_personas, parse_schedule, with_request
from harness.run.sections import RunOutcome, make_evaluator
from harness.run.settings import RunOptions
from harness.run.unlearning import Job, unlearn_and_evaluate
from harness.tracking.events import reporting, steps_after
from harness.tracking.reporter import RunStart

logger = logging.getLogger("salmu_harness")


def run_schedule(
    method_name: str,
    parameters: Mapping[str, Any] | None,
    options: RunOptions,
    registry: Registry,
) -> RunOutcome:
    """Run ``method_name`` once per request of ``options.schedule``, each round from the last
    round's model; write each round's result and the schedule's. Returns the schedule's
    outcome (its ``model_path`` is the last round's model)."""
    assert options.schedule is not None
    schedule = parse_schedule(options.schedule)
    method = registry.method(method_name)
    resolved = method.resolve_parameters(parameters)
    plan = prepare(options, registry)
    started = now()
    run_id = options.run_id or new_run_id(f"{method.name}-{schedule.name}")
    folder = run_folder(options.output_dir, run_id)
    refuse_overwrite(folder, "schedule")
    config = options.to_config(method.name, resolved, plan.protocol)
    start = RunStart(run_id, "run", method.name, config, folder.root)
    benchmark = load_for(options, plan, registry)
    # a schedule that does not fit the benchmark is refused before anything is written
    full, partial = forget_personas(benchmark)
    requests = schedule.partition(full, partial, options.seed)
    with run_log(folder.log), reporting(plan.reporters, start) as reporters:
        job = Job(method, resolved, options, plan, registry)
        sections = job.sections(benchmark)  # the reference models are hashed once, not per round
        hashes = {role: sections["models"][role]["sha256"] for role in ("clean", "compromised")}
        evaluator = make_evaluator(benchmark, options, plan, hashes)
        rounds: list[dict[str, Any]] = []
        started_from = {"id": "compromised", "sha256": hashes["compromised"]}
        previous: Path | None = None
        resuming, number, steps = True, 0, 0
        try:
            for number, request in enumerate(requests, 1):
                place = round_folder(folder.root, number)
                # once a round runs, every later one runs too: it starts from a new model
                document = finished_round(place, config, number, request) if resuming else None
                if document is None:
                    resuming = False
                    logger.info(
                        "schedule %s round %d of %d: %d personas",
                        schedule.name,
                        number,
                        len(requests),
                        len(request),
                    )
                    annotate = _annotator(
                        schedule,
                        options.seed,
                        requests,
                        number,
                        plan.settings.bootstrap,
                        full + partial,
                        started_from,
                    )
                    with steps_after(steps):
                        document = unlearn_and_evaluate(
                            job,
                            benchmark,
                            place,
                            f"{run_id}-round-{number}",
                            now(),
                            time.perf_counter(),
                            reporters,
                            shown=with_request(benchmark, request),
                            start_from=previous,
                            evaluator=evaluator,
                            annotate=annotate,
                            sections=sections,
                        ).document
                else:
                    logger.info("schedule %s round %d: finished earlier", schedule.name, number)
                rounds.append(document)
                steps += document["cost"].get("optimizer_steps", 0)
                previous = place.model
                evaluated = document["models"]["evaluated"]
                started_from = {"id": f"round-{number}", "sha256": evaluated["sha256"]}
        except KeyboardInterrupt:
            raise ScheduleInterrupted(folder.root, number, run_id) from None
        document = schedule_document(
            rounds, schedule, options.seed, requests, plan, run_id, started
        )
        path = write_result(folder.result, document)
        reporters.finish(document, path)
    return RunOutcome(document, path, previous)


class ScheduleInterrupted(HarnessError):
    """Ctrl-C during a schedule: the finished rounds are kept, and how to resume."""

    exit_code = 130

    def __init__(self, root: Path, number: int, run_id: str) -> None:
        kept = {1: "no round had finished", 2: "round 1 is kept"}.get(
            number, f"rounds 1-{number - 1} are kept"
        )
        super().__init__(
            f"interrupted in round {number}: {kept} in {root}",
            f"resume after the last finished round: run the same command with --run-id {run_id}",
        )


def evaluate_schedule(
    checkpoints: Sequence[str | Path], options: RunOptions, registry: Registry
) -> RunOutcome:
    """Evaluate a schedule's round checkpoints (one per request, in order, or one folder
    holding ``round-1/``, ``round-2/``, ...) into round results and the schedule's result;
    the requests are drawn with ``options.seed``, the seed the rounds were run with."""
    assert options.schedule is not None
    schedule = parse_schedule(options.schedule)
    found = round_checkpoints(checkpoints)
    run_id = options.run_id or new_run_id(f"evaluate-{schedule.name}")
    folder = run_folder(options.output_dir, run_id)
    refuse_overwrite(folder)
    session = evaluation_session(options, registry)
    full, partial = forget_personas(session.benchmark)
    requests = schedule.partition(full, partial, options.seed)
    if len(found) != len(requests):
        raise ParameterError(
            f"schedule {schedule.name} has {len(requests)} requests but {len(found)} round "
            "checkpoints were given",
            "give one checkpoint per round, in order, or a folder of round-N/ folders",
        )
    check_recorded_requests(found, requests)
    started, clock = now(), time.perf_counter()
    places = [
        (f"{run_id}-round-{n}", round_folder(folder.root, n)) for n in range(1, len(found) + 1)
    ]
    annotators = [
        _annotator(
            schedule,
            options.seed,
            requests,
            n,
            session.plan.settings.bootstrap,
            full + partial,
            {"id": "compromised" if n == 1 else f"round-{n - 1}", "sha256": None},
        )
        for n in range(1, len(found) + 1)
    ]
    try:
        outcomes = evaluate_checkpoints(
            found,
            options,
            registry,
            keep_going=False,
            places=places,
            annotate=lambda index, metrics: annotators[index](metrics),
            session=session,
        )
    except KeyboardInterrupt:
        raise HarnessError(
            f"interrupted: the rounds evaluated so far are in {folder.root}, without the "
            "schedule's result",
            "evaluate the schedule again (with another --run-id)",
        ) from None
    rounds = [o.document for o in outcomes if isinstance(o, RunOutcome)]
    document = schedule_document(
        rounds, schedule, options.seed, requests, session.plan, run_id, started
    )
    logger.info("schedule %s evaluated in %.1f s", schedule.name, time.perf_counter() - clock)
    return RunOutcome(document, write_result(folder.result, document))


def schedule_document(
    rounds: Sequence[dict[str, Any]],
    schedule: Schedule,
    seed: int,
    requests: Sequence[Sequence[str]],
    plan: Plan,
    run_id: str,
    started: str,
) -> dict[str, Any]:
    """The schedule's result: the last round's sections, every round's warnings (named by
    round), the cost of every round added up, and under ``schedule`` every round (without its
    per-row arrays, which the round's own result keeps), the summary of the sequence and its
    diagnosis."""
    last = rounds[-1]
    summary = sequence_summary(rounds)
    section = {
        **schedule.to_json(),
        "seed": seed,
        "requests": [list(r) for r in requests],
        "round_results": [_without_per_row(r) for r in rounds],
        "summary": summary,
        "diagnosis": schedule_diagnosis_of(plan, summary),
    }
    warnings = [
        {**w, "message": f"round {n}: {w['message']}"}
        for n, r in enumerate(rounds, 1)
        for w in r.get("warnings", [])
    ]
    header = base_document("schedule", run_id, started)
    sections = {k: v for k, v in last.items() if k not in header and k != "cost"}
    return assemble(
        header,
        **{**sections, "schedule": section, "warnings": warnings or None},
        finished_at=now(),
        cost=total_cost([r["cost"] for r in rounds]),
    )


def total_cost(costs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A schedule's cost: seconds, optimizer steps and samples read added up over its rounds,
    the peak memory the largest of theirs."""
    total: dict[str, Any] = {
        key: round(sum(c[key] for c in costs), 3)
        for key in ("wall_seconds", "method_seconds", "evaluation_seconds")
    }
    total["peak_memory_bytes"] = max(c["peak_memory_bytes"] for c in costs)
    if all("optimizer_steps" in c for c in costs):
        total["optimizer_steps"] = sum(c["optimizer_steps"] for c in costs)
        reads: dict[str, int] = {}
        for cost in costs:
            for split, samples in cost.get("samples_read", {}).items():
                reads[split] = reads.get(split, 0) + samples
        total["samples_read"] = dict(sorted(reads.items()))
    if any("peak_gpu_memory_bytes" in c for c in costs):
        total["peak_gpu_memory_bytes"] = max(c.get("peak_gpu_memory_bytes", 0) for c in costs)
    return total


def _annotator(
    schedule: Schedule,
    seed: int,
    requests: Sequence[Sequence[str]],
    number: int,
    bootstrap: BootstrapSettings,
    personas: Sequence[str],
    started_from: dict[str, Any],
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The round's ``schedule`` section, from its metrics."""
    record = {
        **{k: v for k, v in schedule.to_json().items() if k != "requests"},
        "seed": seed,
        "round": number,
        "of": len(requests),
        "request": list(requests[number - 1]),
        "started_from": started_from,
    }

    def annotate(metrics: dict[str, Any]) -> dict[str, Any]:
        groups = persona_groups(metrics, requests, number - 1, bootstrap, personas)
        return {"schedule": {**record, **groups}}

    return annotate


def _without_per_row(document: dict[str, Any]) -> dict[str, Any]:
    metrics = {
        key: {k: v for k, v in entry.items() if k != "per_row"}
        for key, entry in document["metrics"].items()
    }
    return {**document, "metrics": metrics}
