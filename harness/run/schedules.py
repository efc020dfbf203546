"""Deletion-request schedules: which forget personas each unlearning request asks to forget.

SALMUBench asks a method to forget every forget persona at once. A schedule splits them into
requests instead, by identity: ``scaled-F`` is one request holding the fraction F of them,
``sequential-K`` is K requests that together hold all of them, one after another. Every
request keeps the benchmark's proportion of fully forgotten personas (``forget_identity``) and
partly forgotten ones (``forget_association``): each kind is shuffled with a generator of its
own (the schedule's seed) and dealt out separately. A custom schedule is a file naming each
request's identity ids.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from harness.benchmarks.base import Benchmark, Split
from harness.errors import ParameterError, UnknownNameError
from harness.rng import dedicated_rng

Kind = Literal["scaled", "sequential", "custom"]
#: the named schedules users pick from (any ``scaled-F`` or ``sequential-K`` is accepted too)
NAMED = ("scaled-0.1", "scaled-0.25", "scaled-0.5", "scaled-1.0", "sequential-4", "sequential-8")
PATTERN = re.compile(r"^(scaled)-([0-9]*\.?[0-9]+)$|^(sequential)-([0-9]+)$")


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """How the forget personas are requested: one request of a fraction (``scaled``), K in a
    row (``sequential``), or the requests a file lists (``custom``)."""

    name: str
    """``scaled-0.25``, ``sequential-4`` or ``custom:FILE-STEM-DIGEST`` (the requests' sha256,
    8 hex digits): recorded in results and reports."""
    kind: Kind
    fraction: float | None = None
    """``scaled``: the share of the forget personas its one request holds, in (0, 1]."""
    rounds: int | None = None
    """``sequential``: how many requests, one after another."""
    requests: tuple[tuple[str, ...], ...] | None = None
    """``custom``: each request's identity ids, as the file lists them."""

    def to_json(self) -> dict[str, Any]:
        """The schedule's record in a result."""
        record: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.fraction is not None:
            record["fraction"] = self.fraction
        if self.rounds is not None:
            record["rounds"] = self.rounds
        if self.requests is not None:
            record["requests"] = [list(r) for r in self.requests]
        return record

    def partition(self, full: Sequence[str], partial: Sequence[str], seed: int) -> list[list[str]]:
        """Each request's identity ids (sorted), from the fully and the partly forgotten
        personas; the same seed gives the same requests on every machine."""
        known = set(full) | set(partial)
        if self.kind == "custom":
            assert self.requests is not None
            for number, request in enumerate(self.requests, 1):
                unknown = sorted(set(request) - known)
                if unknown:
                    shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
                    raise ParameterError(
                        f"schedule {self.name}: request {number} names {len(unknown)} "
                        f"identities that are not forget personas of this benchmark: {shown}",
                        "take identity ids from the forget split "
                        "(forget_identity and forget_association)",
                    )
            return [sorted(r) for r in self.requests]
        strata = [_shuffled(full, seed, "full"), _shuffled(partial, seed, "partial")]
        if self.kind == "scaled":
            assert self.fraction is not None
            chosen = [i for s in strata for i in s[: round(self.fraction * len(s))]]
            if not chosen:
                raise ParameterError(
                    f"schedule {self.name}: {self.fraction:g} of {len(known)} forget personas "
                    "is an empty request",
                    "choose a larger fraction",
                )
            return [sorted(chosen)]
        assert self.rounds is not None
        if self.rounds > len(known):
            raise ParameterError(
                f"schedule {self.name}: {self.rounds} requests but only {len(known)} forget "
                "personas: a request would be empty",
                f"choose at most sequential-{len(known)}",
            )
        requests: list[list[str]] = [[] for _ in range(self.rounds)]
        dealt = 0
        for stratum in strata:  # dealt round robin, continuing across strata, so sizes differ by 1
            for identity in stratum:
                requests[dealt % self.rounds].append(identity)
                dealt += 1
        return [sorted(r) for r in requests]


def parse_schedule(spec: str) -> Schedule:
    """A schedule from its name (``scaled-0.25``, ``sequential-4``) or a file path."""
    match = PATTERN.match(spec)
    if match and match.group(1):
        fraction = float(match.group(2))
        if not 0 < fraction <= 1:
            raise ParameterError(
                f"schedule {spec}: the fraction must lie in (0, 1], not {fraction:g}",
                "e.g. scaled-0.1, scaled-0.25, scaled-0.5 or scaled-1.0",
            )
        shown = f"{fraction:g}" if fraction != int(fraction) else f"{fraction:.1f}"
        return Schedule(name=f"scaled-{shown}", kind="scaled", fraction=fraction)
    if match and match.group(3):
        rounds = int(match.group(4))
        if rounds < 1:
            raise ParameterError(f"schedule {spec}: at least one request", "e.g. sequential-4")
        return Schedule(name=f"sequential-{rounds}", kind="sequential", rounds=rounds)
    path = Path(spec).expanduser()
    if path.suffix.lower() in (".json", ".yaml", ".yml") or path.exists():
        return read_schedule_file(path)
    raise UnknownNameError(
        "schedule", spec, NAMED, "any scaled-F, sequential-K, a schedule file, or one of"
    )


def read_schedule_file(path: Path) -> Schedule:
    """A custom schedule: ``{"requests": [[ID, ...], ...]}`` (JSON or YAML), each identity in at
    most one request, no request empty."""
    from harness.storage import read_mapping_file

    document = read_mapping_file(path, "schedule file")
    schedule = custom_schedule(document, "custom", str(path))
    digest = hashlib.sha256(json.dumps(schedule.requests).encode()).hexdigest()[:8]
    # the requests' digest tells two files of one name apart (reports key rows by name)
    return replace(schedule, name=f"custom:{Path(path).stem}-{digest}")


def custom_schedule(document: Mapping[str, Any], name: str, where: str) -> Schedule:
    """Check a custom schedule's document; the errors name the request at fault."""
    requests = document.get("requests")
    if not isinstance(requests, list) or not requests:
        raise ParameterError(
            f"{where}: 'requests' must be a non-empty list of requests",
            'write {"requests": [["00844093", "00912255"], ["00123456"]]}',
        )
    seen: dict[str, int] = {}
    checked = []
    for number, request in enumerate(requests, 1):
        if not isinstance(request, list) or not request:
            raise ParameterError(
                f"{where}: request {number} is empty or not a list of identity ids",
                "give each request at least one identity id",
            )
        for identity in request:
            if not isinstance(identity, str):
                raise ParameterError(
                    f"{where}: request {number} holds {identity!r}, not an identity id string",
                    'quote identity ids: "00844093"',
                )
            if identity in seen:
                raise ParameterError(
                    f"{where}: identity {identity} is in request {seen[identity]} and in "
                    f"request {number}",
                    "each persona is requested once: remove it from one of them",
                )
            seen[identity] = number
        checked.append(tuple(request))
    return Schedule(name=name, kind="custom", requests=tuple(checked))


def forget_personas(benchmark: Benchmark) -> tuple[list[str], list[str]]:
    """The fully forgotten personas (``forget_identity``) and the partly forgotten ones
    (``forget_association``), each sorted."""
    return (
        benchmark.split("forget_identity").identities,
        benchmark.split("forget_association").identities,
    )


def with_request(benchmark: Benchmark, identities: Iterable[str]) -> Benchmark:
    """The benchmark as a method sees it for one request: ``forget`` holds the requested
    personas' rows only; the other personas' rows are withheld like the holdout splits (and
    so are their generic captions, which a method gets for its forget rows only)."""
    wanted = set(identities)
    forget = benchmark.split("forget")
    rows = [i for i, identity in enumerate(forget.identity_ids) if identity in wanted]
    if not rows:
        raise ParameterError(
            "the request holds no forget row: its identity ids are not forget personas",
            "take a request from Schedule.partition on this benchmark",
        )
    # derived from the forget split: the training image cache reads the forget split's entry
    selected = Split("forget", forget.dataset.select(rows), parent=forget, parent_rows=rows)
    splits = {**benchmark.splits, "forget": selected}
    return replace(benchmark, splits=splits)


def _shuffled(identities: Sequence[str], seed: int, stratum: str) -> list[str]:
    ordered = sorted(identities)
    order = dedicated_rng(seed, f"schedule-{stratum}").permutation(len(ordered))
    return [ordered[i] for i in order]
