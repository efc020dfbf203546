"""What methods may read of the retain data, and checking a checkpoint against an evaluation.

Methods train on a ``retain`` split: the benchmark's method-retain source (``retain_disjoint``
for hub-layout benchmarks) minus every row the evaluation reads, by file name or caption, as
each registered metric suite declares (for SALMUBench: the fragile set and the RetFail
gallery's captions). What the evaluation reads depends on the protocol and the seed, so the
split is derived for each run from the settings it evaluates with. ``run`` writes a training
record beside the saved model; ``evaluate`` checks a checkpoint's record against its own
settings and says whether the method provably never read what this evaluation reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.benchmarks.base import Benchmark, Split
from harness.metric import MetricSuite, Withheld
from harness.protocol import EvaluationProtocol, protocol_from_json
from harness.results.layout import TRAINING_RECORD


def withheld_by(
    suites: Iterable[MetricSuite], benchmark: Benchmark, protocol: EvaluationProtocol, seed: int
) -> Withheld:
    """What every suite's evaluation reads of the method-retain source, together."""
    parts = [s.withheld(benchmark, protocol, seed) for s in suites if s.withheld is not None]
    return Withheld(
        frozenset().union(*(p.file_names for p in parts)),
        frozenset().union(*(p.texts for p in parts)),
    )


def method_retain_rows(benchmark: Benchmark, withheld: Withheld) -> list[int]:
    """Rows of the method-retain source that are not ``withheld``."""
    source = benchmark.split(benchmark.method_retain_source)
    return [
        i
        for i, (name, text) in enumerate(zip(source.file_names, source.texts, strict=True))
        if name not in withheld.file_names and text not in withheld.texts
    ]


def with_method_retain(
    benchmark: Benchmark,
    suites: Iterable[MetricSuite],
    protocol: EvaluationProtocol,
    seed: int,
) -> Benchmark:
    """The benchmark with its ``retain`` split for an evaluation under ``protocol`` at ``seed``."""
    withheld = withheld_by(suites, benchmark, protocol, seed)
    rows = method_retain_rows(benchmark, withheld)
    source = benchmark.split(benchmark.method_retain_source)
    splits = {**benchmark.splits, "retain": Split("retain", source.dataset.select(rows))}
    details = {
        **benchmark.details,
        "method_retain_split": f"{source.name} minus every row whose file name or caption the "
        f"evaluation reads under protocol {protocol.name} v{protocol.version} at seed {seed}: "
        f"{len(rows)} of {len(source)} rows",
    }
    return replace(benchmark, splits=splits, details=details)


def training_record(
    benchmark: Benchmark, protocol: EvaluationProtocol, seed: int, method: dict[str, Any]
) -> dict[str, Any]:
    """What a saved model records of the data its method could read."""
    return {
        "benchmark": {"name": benchmark.name, "revision": benchmark.revision},
        "retain": benchmark.split("retain").describe(),
        "evaluation_seed": seed,
        "protocol": protocol.to_json(),
        "method": method,
    }


def isolation_record(
    status: str,
    reason: str | None = None,
    overlapping_captions: int | None = None,
    trained_with: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The result's ``evaluation.retain_isolation``: ``guaranteed``, ``overlap`` or ``unknown``,
    why, and (when known) how many captions overlap and what the method trained with."""
    record: dict[str, Any] = {"status": status}
    if overlapping_captions is not None:
        record["overlapping_captions"] = overlapping_captions
    if trained_with is not None:
        record["trained_with"] = trained_with
    if reason is not None:
        record["reason"] = reason
    return record


def isolation_of_checkpoint(
    checkpoint: Path,
    sha256: str,
    reference_sha256: dict[str, str],
    benchmark: Benchmark,
    suites: list[MetricSuite],
    protocol: EvaluationProtocol,
    seed: int,
) -> dict[str, Any]:
    """A checkpoint's isolation: guaranteed for the benchmark's own reference weights (no
    method trained them), else what its training record shows (``check_isolation``)."""
    for role, reference in reference_sha256.items():
        if sha256 == reference:
            return isolation_record(
                "guaranteed",
                f"the evaluated weights are the benchmark's {role} model, which no method trained",
                overlapping_captions=0,
            )
    return check_isolation(checkpoint, benchmark, suites, protocol, seed)


def check_isolation(
    checkpoint: Path,
    benchmark: Benchmark,
    suites: list[MetricSuite],
    protocol: EvaluationProtocol,
    seed: int,
) -> dict[str, Any]:
    """Whether the method behind ``checkpoint`` provably never read a retain row this
    evaluation reads: ``guaranteed``, ``overlap`` (with the count) or ``unknown``."""
    folder = Path(checkpoint) if Path(checkpoint).is_dir() else Path(checkpoint).parent
    path = folder / TRAINING_RECORD
    if not path.is_file():
        return isolation_record(
            "unknown",
            f"the checkpoint has no training record ({TRAINING_RECORD}), so nothing "
            "shows that its method never trained on retain rows this evaluation reads",
        )
    try:
        record = json.loads(path.read_text())
        trained_benchmark = record["benchmark"]
        trained_protocol = protocol_from_json(record["protocol"], str(path))
        trained_seed = int(record["evaluation_seed"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return isolation_record("unknown", f"the training record {path} is unreadable: {exc}")
    if (trained_benchmark.get("name"), trained_benchmark.get("revision")) != (
        benchmark.name,
        benchmark.revision,
    ):
        return isolation_record(
            "unknown",
            f"the method trained on {trained_benchmark.get('name')} revision "
            f"{trained_benchmark.get('revision')}, not on this benchmark",
        )
    source = benchmark.split(benchmark.method_retain_source)
    trained = withheld_by(suites, benchmark, trained_protocol, trained_seed)
    read = method_retain_rows(benchmark, trained)
    now = withheld_by(suites, benchmark, protocol, seed)
    overlap = {
        source.texts[i]
        for i in read
        if source.file_names[i] in now.file_names or source.texts[i] in now.texts
    }
    trained_with = {"protocol": trained_protocol.identity, "evaluation_seed": trained_seed}
    if overlap:
        return isolation_record(
            "overlap",
            f"{len(overlap)} captions this evaluation reads (of {len(now.texts)}) "
            "were in the retain split the method could read (it trained for protocol "
            f"{trained_protocol.name} v{trained_protocol.version} at seed {trained_seed})",
            overlapping_captions=len(overlap),
            trained_with=trained_with,
        )
    return isolation_record("guaranteed", overlapping_captions=0, trained_with=trained_with)
