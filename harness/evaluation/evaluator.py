"""Evaluating models on one benchmark: the evaluated model and its Clean and Compromised
references, on shared caches.

An ``Evaluator`` holds one benchmark, one list of metrics and one set of settings. Every
model it evaluates shares its image cache, and the references are computed (or read from the
reference cache) once, whatever number of models follow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from harness.benchmarks.base import Benchmark, Role
from harness.evaluation.context import EvaluationContext
from harness.evaluation.embeddings import EmbeddingEngine
from harness.evaluation.image_cache import ImageCache
from harness.evaluation.references import ReferenceCache, cache_key
from harness.evaluation.runner import evaluate_metrics
from harness.evaluation.settings import EvaluationSettings
from harness.evaluation.stages import StageClock
from harness.evaluation.tokens import TokenCache
from harness.metric import Metric

ROLES: tuple[Role, Role] = ("clean", "compromised")


class EncodableModel(Protocol):
    """What the evaluator needs of a loaded model."""

    @property
    def model(self) -> torch.nn.Module: ...

    @property
    def tokenizer(self) -> Callable[..., torch.Tensor]: ...

    @property
    def preprocess_eval(self) -> Callable[..., Any]: ...


@dataclass(frozen=True)
class EngineOptions:
    """How models are encoded: device, precision, batching, progress bars, compilation."""

    device: torch.device
    precision: str = "fp32"
    batch_size: int | None = None
    num_workers: int | None = None
    show_progress: bool = True
    compile: bool = False


class Evaluator:
    """Evaluates models with ``metrics`` on ``benchmark`` under ``settings``."""

    def __init__(
        self,
        benchmark: Benchmark,
        metrics: Sequence[Metric],
        settings: EvaluationSettings,
        engine: EngineOptions,
        load_reference: Callable[[Role], EncodableModel],
        reference_hashes: dict[str, str],
        image_cache: bool = True,
        preloaded: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.benchmark = benchmark
        self.metrics = list(metrics)
        self.settings = settings
        self.engine_options = engine
        self.images = ImageCache() if image_cache else None
        self.reference_cache = ReferenceCache(preloaded=preloaded)
        self._load_reference = load_reference
        self._hashes = reference_hashes
        self._references: dict[str, dict[str, dict[str, Any]]] | None = None
        self._contexts: dict[str, EvaluationContext] = {}
        self.tokens = TokenCache()
        """Token rows shared by every model this evaluator encodes."""
        self.clock = StageClock()
        """Seconds per stage (decoding, image and text encoding) over every model so far."""

    def engine(self, loaded: EncodableModel, label: str) -> EmbeddingEngine:
        """An embedding engine for ``loaded`` on the shared image cache."""
        options = self.engine_options
        return EmbeddingEngine(
            loaded.model,
            loaded.tokenizer,
            loaded.preprocess_eval,
            options.device,
            options.precision,
            batch_size=options.batch_size,
            num_workers=options.num_workers,
            show_progress=options.show_progress,
            label=label,
            image_cache=self.images,
            cache_scope=f"{self.benchmark.name}@{self.benchmark.revision}",
            compile=options.compile,
            tokens=self.tokens,
            clock=self.clock,
            shorten_texts=self.settings.text_padding == "trimmed",
        )

    def evaluate(self, loaded: EncodableModel, label: str = "evaluated") -> dict[str, Any]:
        """Each metric's record for ``loaded``."""
        context = EvaluationContext(
            self.benchmark, self.engine(loaded, label), self.settings, label, self.context
        )
        return evaluate_metrics(context, self.metrics)

    def context(self, role: Role) -> EvaluationContext:
        """The evaluation context of a reference model, loaded on first use. It is kept (its
        embeddings serve every metric and model) while a selected metric ``reads_references``;
        otherwise it is released once the reference records are known."""
        if role not in self._contexts:
            engine = self.engine(self._load_reference(role), role)
            self._contexts[role] = EvaluationContext(
                self.benchmark, engine, self.settings, role, self.context
            )
        return self._contexts[role]

    def reference_keys(self, role: str) -> dict[str, str]:
        """Metric key -> reference-cache key of ``role``'s record."""
        precision = self.engine_options.precision
        return {
            m.key: cache_key(self._hashes[role], m, self.benchmark, self.settings, precision)
            for m in self.metrics
        }

    def references(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Role -> metric key -> record: read from the reference cache, computed on a miss."""
        if self._references is None:
            by_key = {m.key: m for m in self.metrics}
            found: dict[str, dict[str, dict[str, Any]]] = {}
            for role in ROLES:

                def compute(missing: Sequence[str], role: Role = role) -> dict[str, Any]:
                    return evaluate_metrics(self.context(role), [by_key[k] for k in missing])

                found[role] = self.reference_cache.get_or_compute(
                    self.reference_keys(role), compute
                )
            self._references = found
            if not any(m.reads_references for m in self.metrics):
                # the records are all later models need: free the models and embeddings
                self._contexts.clear()
        return self._references

    def reference_records(self) -> dict[str, dict[str, Any]]:
        """Every reference record by its reference-cache key (what a sweep hands its trials)."""
        references = self.references()
        return {
            cache: references[role][metric_key]
            for role in ROLES
            for metric_key, cache in self.reference_keys(role).items()
        }

    def cache_counts(self) -> dict[str, dict[str, int]]:
        """Reference-cache and image-cache hits and misses so far."""
        counts = {
            "reference_cache": {
                "hits": self.reference_cache.hits,
                "misses": self.reference_cache.misses,
            }
        }
        if self.images is not None:
            counts["image_cache"] = {"hits": self.images.hits, "misses": self.images.misses}
        return counts
