"""Deletion-request schedules: named and custom, the partition by identity, the errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import ParameterError, UnknownNameError
from harness.run.schedules import NAMED, parse_schedule

FULL = [f"1{n:07d}" for n in range(30)]  # fully forgotten personas (forget_identity)
PARTIAL = [f"2{n:07d}" for n in range(60)]  # partly forgotten ones (forget_association)


def test_every_named_schedule_parses_to_its_own_name() -> None:
    assert [parse_schedule(name).name for name in NAMED] == list(NAMED)
    assert parse_schedule("scaled-.25").name == "scaled-0.25"


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5, 1.0])
def test_scaled_requests_keep_the_benchmarks_proportion(fraction: float) -> None:
    (request,) = parse_schedule(f"scaled-{fraction}").partition(FULL, PARTIAL, seed=0)
    full = [i for i in request if i in FULL]
    assert len(full) == round(fraction * 30) and len(request) - len(full) == round(fraction * 60)
    assert request == sorted(request)


def test_sequential_requests_partition_every_persona_evenly() -> None:
    requests = parse_schedule("sequential-4").partition(FULL, PARTIAL, seed=0)
    assert sorted(i for r in requests for i in r) == sorted(FULL + PARTIAL)
    assert [len(r) for r in requests] == [23, 23, 22, 22]
    assert sorted(sum(i in FULL for i in r) for r in requests) == [7, 7, 8, 8]


def test_the_partition_depends_on_the_seed_only() -> None:
    schedule = parse_schedule("sequential-8")
    first = schedule.partition(FULL, PARTIAL, seed=3)
    assert first == schedule.partition(list(reversed(FULL)), PARTIAL, seed=3)  # order-free
    assert first != schedule.partition(FULL, PARTIAL, seed=4)
    smaller = parse_schedule("scaled-0.1").partition(FULL, PARTIAL, seed=3)[0]
    larger = parse_schedule("scaled-0.5").partition(FULL, PARTIAL, seed=3)[0]
    assert set(smaller) <= set(larger)  # a larger fraction extends the smaller request


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("scaled-0", "the fraction must lie in (0, 1], not 0"),
        ("scaled-1.5", "not 1.5"),
        ("sequential-0", "at least one request"),
    ],
)
def test_bad_schedules_say_what_to_do(spec: str, needle: str) -> None:
    with pytest.raises(ParameterError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        parse_schedule(spec)


def test_an_unknown_name_suggests_the_named_ones() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'sequential-4'"):
        parse_schedule("sequentail-4")


def test_too_many_rounds_or_too_small_a_fraction_would_leave_a_request_empty() -> None:
    with pytest.raises(ParameterError, match="a request would be empty"):
        parse_schedule("sequential-100").partition(FULL, PARTIAL, seed=0)
    with pytest.raises(ParameterError, match="is an empty request"):
        parse_schedule("scaled-0.001").partition(FULL, PARTIAL, seed=0)


def test_custom_schedules_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "two-batches.json"
    path.write_text(json.dumps({"requests": [[FULL[0], PARTIAL[1]], [FULL[2]]]}))
    schedule = parse_schedule(str(path))
    assert schedule.name.startswith("custom:two-batches-") and schedule.kind == "custom"
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "two-batches.json").write_text(json.dumps({"requests": [[FULL[2]]]}))
    assert parse_schedule(str(other / "two-batches.json")).name != schedule.name  # same stem
    assert schedule.partition(FULL, PARTIAL, seed=0) == [[FULL[0], PARTIAL[1]], [FULL[2]]]
    assert schedule.to_json()["requests"] == [[FULL[0], PARTIAL[1]], [FULL[2]]]


@pytest.mark.parametrize(
    ("requests", "needle"),
    [
        ([], "'requests' must be a non-empty list"),
        ([[FULL[0]], []], "request 2 is empty"),
        ([[FULL[0], FULL[1]], [FULL[1]]], f"identity {FULL[1]} is in request 1 and in request 2"),
        ([[10844093]], "not an identity id string"),
    ],
)
def test_bad_custom_schedules_name_the_request(tmp_path: Path, requests, needle: str) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"requests": requests}))
    with pytest.raises(ParameterError, match=needle):
        parse_schedule(str(path))


def test_a_custom_request_of_an_unknown_persona(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(f"requests:\n  - ['{FULL[0]}', '99999999']\n")
    with pytest.raises(
        ParameterError,
        match="request 1 names 1 identities that are not forget "
        "personas of this benchmark: 99999999",
    ):
        parse_schedule(str(path)).partition(FULL, PARTIAL, seed=0)


def test_a_method_sees_only_the_requested_personas_rows(mini_root: Path) -> None:
    import torch

    from harness.plugins import load_plugins
    from harness.run.budget import Budget
    from harness.run.kernel import make_run_context, model_args
    from harness.run.models import load_clip
    from harness.run.plan import load_for, prepare
    from harness.run.schedules import forget_personas, with_request
    from harness.run.settings import RunOptions

    options = RunOptions(benchmark=str(mini_root), show_progress=False, num_workers=0)
    registry = load_plugins(third_party=False)
    mini_benchmark = load_for(options, prepare(options, registry, writes=False), registry)
    full, partial = forget_personas(mini_benchmark)
    assert set(full).isdisjoint(partial)
    assert sorted(full + partial) == mini_benchmark.split("forget").identities
    first = parse_schedule("sequential-4").partition(full, partial, seed=0)[0]
    requested = with_request(mini_benchmark, first)
    forget = requested.split("forget")
    assert set(forget.identities) == set(first)
    everyone = mini_benchmark.split("forget")
    assert len(forget) == sum(i in set(first) for i in everyone.identity_ids) < len(everyone)
    for name in ("holdout_identity", "holdout_association", "retain"):
        assert requested.split(name) is mini_benchmark.split(name)  # nothing else changes
    budget = Budget(1.0, len(forget))  # passes over the request, not over the whole split
    context = make_run_context(
        load_clip(*model_args(requested, "compromised")),
        requested,
        budget,
        torch.device("cpu"),
        options,
    )
    assert len(context.forget) == len(forget)
    assert set(context.generic_captions) == set(forget.file_names)  # the request's captions only
    with pytest.raises(ParameterError, match="holds no forget row"):
        with_request(mini_benchmark, ["99999999"])


def _metric(per_identity: dict, clean: dict, compromised: dict) -> dict:
    references = {
        "clean": {"status": "ok", "per_identity": clean},
        "compromised": {"status": "ok", "per_identity": compromised},
    }
    return {
        "status": "ok",
        "target": "clean",
        "per_identity": per_identity,
        "references": references,
    }


def test_persona_groups_split_personas_by_when_they_were_requested() -> None:
    from harness.evaluation.settings import BootstrapSettings
    from harness.run.request_groups import persona_groups

    values = {"a": 0.1, "b": 0.2, "c": 0.9, "d": 0.8, "e": 0.5}
    metrics = {"1.1": _metric(values, dict.fromkeys(values, 0.0), dict.fromkeys(values, 1.0))}
    requests = [["b"], ["a"], ["c"]]  # d and e are in no request: never requested
    found = persona_groups(metrics, requests, 1, BootstrapSettings(), ["a", "b", "c", "d", "e"])
    groups = found["groups"]["1.1"]
    assert groups["requested"]["value"] == 0.1 and groups["requested"]["personas"] == 1
    assert groups["earlier"]["value"] == 0.2 and groups["earlier"]["score"] == pytest.approx(0.8)
    assert groups["not_yet"]["personas"] == 3  # c, and d and e, which no request holds
    assert groups["not_yet"]["value"] == pytest.approx((0.9 + 0.8 + 0.5) / 3)
    low, high = groups["not_yet"]["ci"]
    assert low <= groups["not_yet"]["value"] <= high
    assert [r["value"] for r in found["by_request"]["1.1"]] == [0.2, 0.1, 0.9]
    last = persona_groups(metrics, requests, 2, BootstrapSettings())
    assert last["groups"]["1.1"]["not_yet"] == {"personas": 0, "value": None}
    with pytest.raises(ValueError, match="round 3 of a schedule of 3"):
        persona_groups(metrics, requests, 3, BootstrapSettings())


def test_persona_groups_read_a_real_results_per_identity_values(
    finetune_outcome, mini_benchmark
) -> None:
    from harness.evaluation.settings import BootstrapSettings
    from harness.run.request_groups import persona_groups
    from harness.run.schedules import forget_personas

    record = finetune_outcome.document["metrics"]["1.1"]
    requests = parse_schedule("sequential-4").partition(*forget_personas(mini_benchmark), seed=0)
    found = persona_groups(finetune_outcome.document["metrics"], requests, 1, BootstrapSettings())[
        "groups"
    ]["1.1"]
    assert sum(g["personas"] for g in found.values()) == len(record["per_identity"])
    weighted = sum(g["value"] * g["personas"] for g in found.values()) / len(record["per_identity"])
    mean = sum(record["per_identity"].values()) / len(record["per_identity"])
    assert weighted == pytest.approx(mean, abs=1e-9)  # each persona counted once
    assert (
        "2.1"
        not in persona_groups(
            finetune_outcome.document["metrics"], requests, 1, BootstrapSettings()
        )["groups"]
    )  # only metrics aiming at Clean are split
