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

import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, ParameterError
from harness.evaluation.settings import BootstrapSettings
from harness.plugins import Registry
from harness.results.document import assemble, base_document, now
from harness.results.files import write_result
from harness.results.layout import RunFolder, new_run_id, run_folder
from harness.results.validation import validate_file
from harness.run.checkpoints import evaluate_checkpoints, evaluation_session
from harness.run.logs import run_log
from harness.run.plan import Plan, load_for, prepare, schedule_diagnosis_of
from harness.run.records import reference_hashes
from harness.run.request_groups import persona_groups, sequence_summary
from harness.run.schedules import Schedule, forget_personas, parse_schedule, with_request
from harness.run.sections import RunOutcome, make_evaluator
from harness.run.settings import RunOptions
from harness.run.unlearning import Job, unlearn_and_evaluate
from harness.tracking.events import reporting
from harness.tracking.reporter import RunStart

logger = logging.getLogger("salmu_harness")

#: the name of round N's folder inside a schedule's run folder
ROUND_FOLDER = "round-{}"
#: settings a resumed schedule may change: they never change a number
RESUMABLE_CHANGES = frozenset({"workers"})


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
    config = options.to_config(method.name, resolved, plan.protocol)
    start = RunStart(run_id, "run", method.name, config, folder.root)
    benchmark = load_for(options, plan, registry)
    # a schedule that does not fit the benchmark is refused before anything is written
    full, partial = forget_personas(benchmark)
    requests = schedule.partition(full, partial, options.seed)
    with run_log(folder.log), reporting(plan.reporters, start) as reporters:
        job = Job(method, resolved, options, plan, registry)
        evaluator = make_evaluator(benchmark, options, plan, reference_hashes(benchmark))
        rounds: list[dict[str, Any]] = []
        previous: Path | None = None
        number = 0
        try:
            for number, request in enumerate(requests, 1):
                place = RunFolder(folder.root / ROUND_FOLDER.format(number))
                document = finished_round(place, config, number)
                if document is None:
                    logger.info(
                        "schedule %s round %d of %d: %d personas",
                        schedule.name,
                        number,
                        len(requests),
                        len(request),
                    )
                    outcome = unlearn_and_evaluate(
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
                        annotate=_annotator(
                            schedule,
                            options.seed,
                            requests,
                            number,
                            plan.settings.bootstrap,
                            full + partial,
                        ),
                    )
                    document = outcome.document
                else:
                    logger.info("schedule %s round %d: finished earlier", schedule.name, number)
                rounds.append(document)
                previous = place.model
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
    session = evaluation_session(options, registry)
    full, partial = forget_personas(session.benchmark)
    requests = schedule.partition(full, partial, options.seed)
    if len(found) != len(requests):
        raise ParameterError(
            f"schedule {schedule.name} has {len(requests)} requests but {len(found)} round "
            "checkpoints were given",
            "give one checkpoint per round, in order, or a folder of round-N/ folders",
        )
    started, clock = now(), time.perf_counter()
    run_id = options.run_id or new_run_id(f"evaluate-{schedule.name}")
    folder = run_folder(options.output_dir, run_id)
    places = [
        (f"{run_id}-round-{n}", RunFolder(folder.root / ROUND_FOLDER.format(n)))
        for n in range(1, len(found) + 1)
    ]
    bootstrap = session.plan.settings.bootstrap
    outcomes = evaluate_checkpoints(
        found,
        options,
        registry,
        keep_going=False,
        places=places,
        annotate=lambda index, metrics: _annotator(
            schedule, options.seed, requests, index + 1, bootstrap, full + partial
        )(metrics),
        session=session,
    )
    rounds = [o.document for o in outcomes if isinstance(o, RunOutcome)]
    document = schedule_document(
        rounds, schedule, options.seed, requests, session.plan, run_id, started
    )
    logger.info("schedule %s evaluated in %.1f s", schedule.name, time.perf_counter() - clock)
    return RunOutcome(document, write_result(folder.result, document))


def round_checkpoints(given: Sequence[str | Path]) -> list[str]:
    """The round checkpoints, in order: as given, or the ``round-N`` folders of one folder
    (each its ``model/`` when it is a round's run folder)."""
    if len(given) != 1:
        return [str(c) for c in given]
    root = Path(str(given[0]).removeprefix("local-dir:"))
    numbered = {}
    for child in root.glob("round-*") if root.is_dir() else []:
        suffix = child.name.removeprefix("round-")
        if child.is_dir() and suffix.isdigit():
            numbered[int(suffix)] = child / "model" if (child / "model").is_dir() else child
    if not numbered:
        return [str(given[0])]
    missing = sorted(set(range(1, max(numbered) + 1)) - set(numbered))
    if missing:
        raise ParameterError(
            f"{root} has no round-{missing[0]} folder among its rounds",
            "each round 1..N needs its folder",
        )
    return [f"local-dir:{numbered[n]}" for n in sorted(numbered)]


def finished_round(
    place: RunFolder, config: Mapping[str, Any], number: int
) -> dict[str, Any] | None:
    """Round ``number``'s result when it finished earlier with these settings and its model is
    there; None when the round must run. A round folder of other settings is an error."""
    if not place.result.is_file():
        return None
    if validate_file(place.result):
        return None  # cut short while written: run it again
    document = json.loads(place.result.read_text())
    if document["status"] != "ok" or not (place.model / "open_clip_config.json").is_file():
        return None
    expected = json.loads(json.dumps(config))
    changed = sorted(
        k
        for k in set(expected) | set(document["config"])
        if k not in RESUMABLE_CHANGES and document["config"].get(k) != expected.get(k)
    )
    if changed:
        raise ParameterError(
            f"{place.root} holds round {number} of a run with other settings "
            f"({', '.join(changed)} differ)",
            "resume with the settings it was started with, or choose another --run-id",
        )
    return document


def schedule_document(
    rounds: Sequence[dict[str, Any]],
    schedule: Schedule,
    seed: int,
    requests: Sequence[Sequence[str]],
    plan: Plan,
    run_id: str,
    started: str,
) -> dict[str, Any]:
    """The schedule's result: the last round's sections, and under ``schedule`` every round
    (without its per-row arrays, which the round's own result keeps), the summary of the
    sequence and its diagnosis."""
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
    costs = [r["cost"] for r in rounds]
    cost = {
        "wall_seconds": round(sum(c["wall_seconds"] for c in costs), 3),
        "method_seconds": round(sum(c["method_seconds"] for c in costs), 3),
        "evaluation_seconds": round(sum(c["evaluation_seconds"] for c in costs), 3),
        "peak_memory_bytes": max(c["peak_memory_bytes"] for c in costs),
    }
    header = base_document("schedule", run_id, started)
    sections = {k: v for k, v in last.items() if k not in header and k != "cost"}
    return assemble(header, **{**sections, "schedule": section}, finished_at=now(), cost=cost)


def _annotator(
    schedule: Schedule,
    seed: int,
    requests: Sequence[Sequence[str]],
    number: int,
    bootstrap: BootstrapSettings,
    personas: Sequence[str],
) -> Any:
    """The round's ``schedule`` section, from its metrics."""
    record = {
        **{k: v for k, v in schedule.to_json().items() if k != "requests"},
        "seed": seed,
        "round": number,
        "of": len(requests),
        "request": list(requests[number - 1]),
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
