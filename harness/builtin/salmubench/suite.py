"""The SALMUBench suite's declaration: headline keys, diagnosis, what its evaluation withholds."""

from __future__ import annotations

from harness.benchmarks.base import Benchmark
from harness.builtin.salmubench.diagnosis import (
    ATTACKS,
    DEFAULT_RULES,
    GENKNOW,
    INTER,
    INTRA,
    RETFAIL,
)
from harness.builtin.salmubench.diagnosis import diagnose as diagnose_failure_modes
from harness.builtin.salmubench.gallery import withheld_retain_texts
from harness.builtin.salmubench.schedule_diagnosis import SCHEDULE_RULES, diagnose_schedule
from harness.metric import MetricSuite, Withheld
from harness.protocol import EvaluationProtocol


def withheld(benchmark: Benchmark, protocol: EvaluationProtocol, seed: int) -> Withheld:
    """The fragile set (FragSim reads it) and every caption of the RetFail gallery at ``seed``."""
    texts = withheld_retain_texts(
        benchmark.split("forget"),
        benchmark.split("retain_disjoint"),
        seed,
        protocol.section("retfail"),
    )
    return Withheld(frozenset(benchmark.metadata["fragile_set_ids"]), frozenset(texts))


SUITE = MetricSuite(
    name="salmubench",
    description="SALMUBench: forgetting (1.x, towards Clean) and utility (2.x, towards "
    "Compromised), the three failure modes of the paper; opt-in robustness attacks (3.x) "
    "and the shallow-forgetting mode they decide; under a deletion-request schedule, relapse, "
    "collateral forgetting and utility erosion.",
    forgetting=RETFAIL,
    utility=GENKNOW,
    collateral=(INTER, INTRA),
    per_identity=RETFAIL,
    attacks=ATTACKS,
    rules=DEFAULT_RULES,
    diagnose=diagnose_failure_modes,
    withheld=withheld,
    schedule_rules=SCHEDULE_RULES,
    diagnose_schedule=diagnose_schedule,
)
