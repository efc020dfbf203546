"""What methods may read of the retain data, and checking a checkpoint against an evaluation.

Methods train on a ``retain`` split: ``retain_disjoint`` minus the fragile set (FragSim reads
it) and minus every row whose caption the evaluation's RetFail gallery holds. The gallery
depends on the protocol and the seed, so the split does too: it is derived for each run from
the settings it evaluates with. ``run`` writes a training record beside the saved model; when
``evaluate`` meets a checkpoint, it checks the record against its own gallery and says whether
the gallery's retain captions were provably never read by the method.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.benchmarks.base import Benchmark, Split
from harness.gallery import withheld_retain_texts
from harness.protocol import EvaluationProtocol, protocol_from_json

TRAINING_RECORD = "salmu_training.json"


def method_retain_rows(benchmark: Benchmark, protocol: EvaluationProtocol, seed: int) -> list[int]:
    """Rows of ``retain_disjoint`` a method may read when the run evaluates with these settings."""
    disjoint = benchmark.split("retain_disjoint")
    withheld = withheld_retain_texts(
        benchmark.split("forget"), disjoint, seed, protocol.section("retfail")
    )
    fragile = set(benchmark.metadata["fragile_set_ids"])
    return [
        i
        for i, (name, text) in enumerate(zip(disjoint.file_names, disjoint.texts, strict=True))
        if name not in fragile and text not in withheld
    ]


def with_method_retain(benchmark: Benchmark, protocol: EvaluationProtocol, seed: int) -> Benchmark:
    """The benchmark with its ``retain`` split for an evaluation under ``protocol`` at ``seed``."""
    rows = method_retain_rows(benchmark, protocol, seed)
    disjoint = benchmark.split("retain_disjoint")
    splits = {**benchmark.splits, "retain": Split("retain", disjoint.dataset.select(rows))}
    details = {
        **benchmark.details,
        "method_retain_split": "retain_disjoint minus the fragile set and every row whose "
        f"caption the RetFail gallery holds under protocol {protocol.name} v{protocol.version} "
        f"at seed {seed}: {len(rows)} of {len(disjoint)} rows",
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


def check_isolation(
    checkpoint: Path, benchmark: Benchmark, protocol: EvaluationProtocol, seed: int
) -> dict[str, Any]:
    """Whether the method behind ``checkpoint`` provably never read a retain caption this
    evaluation's gallery holds: ``guaranteed``, ``overlap`` (with the count) or ``unknown``."""
    folder = Path(checkpoint) if Path(checkpoint).is_dir() else Path(checkpoint).parent
    path = folder / TRAINING_RECORD
    if not path.is_file():
        return {
            "status": "unknown",
            "reason": f"the checkpoint has no training record ({TRAINING_RECORD}), so nothing "
            "shows that its method never trained on the RetFail gallery's retain captions",
        }
    try:
        record = json.loads(path.read_text())
        trained_benchmark = record["benchmark"]
        trained_protocol = protocol_from_json(record["protocol"], str(path))
        trained_seed = int(record["evaluation_seed"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return {"status": "unknown", "reason": f"the training record {path} is unreadable: {exc}"}
    if (trained_benchmark.get("name"), trained_benchmark.get("revision")) != (
        benchmark.name,
        benchmark.revision,
    ):
        return {
            "status": "unknown",
            "reason": f"the method trained on {trained_benchmark.get('name')} revision "
            f"{trained_benchmark.get('revision')}, not on this benchmark",
        }
    disjoint = benchmark.split("retain_disjoint")
    read = {
        disjoint.texts[i] for i in method_retain_rows(benchmark, trained_protocol, trained_seed)
    }
    gallery = withheld_retain_texts(
        benchmark.split("forget"), disjoint, seed, protocol.section("retfail")
    )
    overlap = len(read & gallery)
    trained = {"protocol": trained_protocol.identity, "evaluation_seed": trained_seed}
    if overlap:
        return {
            "status": "overlap",
            "overlapping_captions": overlap,
            "trained_with": trained,
            "reason": f"{overlap} of the gallery's {len(gallery)} retain captions were in the "
            f"retain split the method could read (it trained for protocol "
            f"{trained_protocol.name} v{trained_protocol.version} at seed {trained_seed})",
        }
    return {"status": "guaranteed", "overlapping_captions": 0, "trained_with": trained}
