"""Evaluating one model with a set of metrics, on the shared embedding engine."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from harness.benchmarks.base import Benchmark
from harness.embeddings import EmbeddingEngine, SplitEmbeddings
from harness.errors import HarnessError
from harness.gallery import DEFAULT_GALLERY_SEED
from harness.metric import Metric, MetricOutcome, SkipMetric
from harness.protocol import EvaluationProtocol, protocol_from_json
from harness.seeding import dedicated_rng
from harness.statistics import BootstrapSettings, bootstrap_ci, per_group_means


@dataclass(frozen=True)
class EvaluationSettings:
    """Everything besides the model that decides the numbers; recorded in results.

    ``seed`` seeds every random draw of the protocol (RetFail's gallery, ACS's negatives and
    split); ``protocol`` is resolved from ``--protocol`` before anything is evaluated.
    """

    seed: int = DEFAULT_GALLERY_SEED
    bootstrap: BootstrapSettings = field(default_factory=BootstrapSettings)
    keep_per_row: bool = True
    protocol: EvaluationProtocol | None = None

    def to_json(self) -> dict[str, Any]:
        recorded: dict[str, Any] = {"seed": self.seed, "bootstrap": self.bootstrap.to_json()}
        if self.protocol is not None:
            recorded["protocol"] = self.protocol.to_json()
        return recorded

    @classmethod
    def from_json(cls, recorded: dict[str, Any]) -> EvaluationSettings:
        """The settings a result recorded under ``evaluation`` (its protocol included)."""
        bootstrap = recorded["bootstrap"]
        protocol = recorded.get("protocol")
        return cls(
            seed=recorded["seed"],
            bootstrap=BootstrapSettings(
                seed=bootstrap["seed"], resamples=bootstrap["resamples"], level=bootstrap["level"]
            ),
            protocol=protocol_from_json(protocol, "the recorded protocol") if protocol else None,
        )


class EvaluationContext:
    """What a metric's ``compute`` receives: embeddings, the benchmark and dedicated RNGs."""

    def __init__(
        self, benchmark: Benchmark, engine: EmbeddingEngine, settings: EvaluationSettings
    ) -> None:
        self.benchmark = benchmark
        self.engine = engine
        self.settings = settings

    @property
    def seed(self) -> int:
        return self.settings.seed

    @property
    def protocol(self) -> EvaluationProtocol:
        """The evaluation protocol: every choice point of the metrics, as data."""
        if self.settings.protocol is None:
            raise HarnessError(
                "no evaluation protocol was resolved for this evaluation",
                "pass EvaluationSettings(protocol=registry.protocol('official'))",
            )
        return self.settings.protocol

    @property
    def metadata(self) -> dict[str, Any]:
        """The benchmark's metadata files (identities, captions, generic captions, fragile ids)."""
        return self.benchmark.metadata

    def embeddings(self, split: str) -> SplitEmbeddings:
        """Normalised embeddings of a split (encoded once per model, shared by all metrics)."""
        return self.engine.split(self.benchmark.split(split))

    def encode_texts(self, texts: Sequence[str]) -> torch.Tensor:
        """Normalised embeddings of arbitrary texts (cached per text)."""
        return self.engine.texts(texts, desc=f"{self.engine.label}: prompts")

    def rng(self, purpose: str) -> np.random.Generator:
        """A generator that depends only on the evaluation seed and ``purpose``."""
        return dedicated_rng(self.settings.seed, purpose)


def evaluate_metrics(
    context: EvaluationContext, metrics: Sequence[Metric]
) -> dict[str, dict[str, Any]]:
    """Each metric's record for this model: values and CIs, or why it was skipped or failed."""
    records: dict[str, dict[str, Any]] = {}
    for metric in metrics:
        try:
            outcome = metric.compute(context)
            records[metric.key] = outcome_record(metric, outcome, context.settings)
        except SkipMetric as skip:
            records[metric.key] = {"status": "skipped", "reason": skip.reason}
        except Exception as exc:  # a metric's bug is reported, not fatal to the others
            records[metric.key] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    return records


def outcome_record(
    metric: Metric, outcome: MetricOutcome, settings: EvaluationSettings
) -> dict[str, Any]:
    """The JSON record of an outcome, with bootstrap CIs for values that have per-row data."""
    numbers = {"value": outcome.value, **outcome.values}
    bad = [name for name, v in numbers.items() if not _finite(v)]
    if bad:
        return {
            "status": "failed",
            "error": f"{metric.key} computed a non-finite {bad[0]} ({numbers[bad[0]]!r}): "
            "the model's embeddings are probably NaN or infinite",
        }
    record: dict[str, Any] = {
        "status": "ok",
        "value": float(outcome.value),
        "values": {k: float(v) for k, v in outcome.values.items()},
        "details": outcome.details,
    }
    if outcome.per_row or outcome.intervals:
        record["ci"] = {
            name: list(
                bootstrap_ci(rows, outcome.groups, settings.bootstrap, f"{metric.key}/{name}")
            )
            for name, rows in outcome.per_row.items()
        }
        record["ci"].update({name: list(ci) for name, ci in outcome.intervals.items()})
    if outcome.per_row:
        headline = outcome.per_row.get("value")
        if headline is not None and outcome.groups is not None:
            record["per_identity"] = {
                k: round(v, 6) for k, v in per_group_means(headline, outcome.groups).items()
            }
        if settings.keep_per_row:
            record["per_row"] = {
                name: [round(float(x), 6) for x in rows] for name, rows in outcome.per_row.items()
            }
    return record


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
