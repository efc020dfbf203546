"""What a metric's computation receives: the evaluation settings and the context of one model.

Metrics never touch the embedding engine: the context gives them split embeddings, text and
image encodings, the model (to read or copy), input pixels, a zero-shot classifier, the
benchmark, the protocol and dedicated generators.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from typing import Any, cast

import datasets
import numpy as np
import torch

from harness.benchmarks.base import Benchmark, BenchmarkMetadata, Role
from harness.errors import HarnessError
from harness.evaluation.embeddings import EmbeddingEngine, SplitEmbeddings
from harness.evaluation.settings import EvaluationSettings
from harness.protocol import EvaluationProtocol
from harness.rng import dedicated_rng


class EvaluationContext:
    """What a metric's ``compute`` receives: embeddings, the benchmark and dedicated RNGs."""

    def __init__(
        self,
        benchmark: Benchmark,
        engine: EmbeddingEngine,
        settings: EvaluationSettings,
        role: str = "evaluated",
        references: Callable[[Role], EvaluationContext] | None = None,
    ) -> None:
        self.benchmark = benchmark
        """The loaded benchmark: splits, metadata, reference models, GenKnow set."""
        self._engine = engine
        self.settings = settings
        """The evaluation settings: seed, bootstrap, protocol."""
        self.role = role
        """Which model this is: ``evaluated``, ``clean``, ``compromised``, or the label of a
        derived model (``clean+int4``)."""
        self._references = references

    @property
    def seed(self) -> int:
        """The evaluation seed (``evaluation.seed`` of the config); use ``rng`` for random draws."""
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
    def logger(self) -> logging.Logger:
        """The metrics' logger (``salmu_harness.metrics``): records go to the run's
        ``run.log``, and to stderr with ``-v``."""
        return logging.getLogger("salmu_harness.metrics")

    @property
    def metadata(self) -> BenchmarkMetadata:
        """The benchmark's metadata files, by key: see ``BenchmarkMetadata``."""
        return cast(BenchmarkMetadata, self.benchmark.metadata)

    def embeddings(self, split: str) -> SplitEmbeddings:
        """Normalised embeddings of a split (encoded once per model, shared by all metrics)."""
        return self._engine.split(self.benchmark.split(split))

    def encode_texts(self, texts: Sequence[str]) -> torch.Tensor:
        """Normalised embeddings of arbitrary texts (cached per text)."""
        return self._engine.texts(texts, desc=f"{self._engine.label}: prompts")

    def encode_images(
        self,
        dataset: datasets.Dataset,
        desc: str,
        content_sha256: str | Callable[[], str] | None = None,
    ) -> torch.Tensor:
        """Normalised embeddings of a dataset's ``image`` column. Given the images' content hash
        (or a function computing it, called only when the image cache is on), the preprocessed
        pixels come from, or go to, the image cache."""
        engine = self._engine
        key = None
        if engine.image_cache is not None and content_sha256 is not None:
            key = content_sha256() if callable(content_sha256) else content_sha256
        return engine.images(dataset, desc=f"{engine.label}: {desc}", content_sha256=key)

    def pixels(self, split: str, rows: Sequence[int]) -> torch.Tensor:
        """The model's input for ``rows`` of ``split`` under the evaluation transform:
        ``[len(rows), 3, H, W]`` float32 on the device, read from the image cache when it holds
        the split (after ``embeddings(split)``), else decoded. For metrics that train or attack
        a copy of the model on benchmark images."""
        return self._engine.pixels(self.benchmark.split(split), rows)

    def zero_shot_classifier(
        self, classnames: Sequence[str], templates: Sequence[Any]
    ) -> torch.Tensor:
        """[D, classes]: the mean normalised prompt embedding of each class (open_clip's
        ``build_zero_shot_classifier``; templates are format strings or callables)."""
        import open_clip

        engine = self._engine
        with torch.inference_mode():
            classifier = open_clip.build_zero_shot_classifier(
                engine.model,
                engine.tokenizer,
                list(classnames),
                list(templates),
                num_classes_per_batch=50,
                device=engine.device,
            )
        return classifier.float().cpu()

    def reference(self, role: Role) -> EvaluationContext:
        """The context of the Clean or Compromised model, on the same benchmark and settings
        (built once per process, its embeddings shared by every metric and model): for metrics
        that compare the evaluated model with a reference row by row."""
        if role == self.role:
            return self
        if self._references is None:
            raise HarnessError(
                f"the {role} model is not available to this evaluation context",
                "build contexts through harness.evaluation.evaluator.Evaluator",
            )
        return self._references(role)

    def derived(self, model: torch.nn.Module, label: str) -> EvaluationContext:
        """A context for ``model``, a changed copy of this context's model (attacked,
        quantized): same benchmark, settings, tokenizer, preprocessing and image cache; its
        embeddings are its own. ``label`` names it in progress bars and its ``role``."""
        engine = self._engine.with_model(model, f"{self.role}+{label}")
        return EvaluationContext(
            self.benchmark, engine, self.settings, engine.label, self._references
        )

    def trainable_copy(self) -> torch.nn.Module:
        """A copy of this context's model in train mode, on its device: metrics that attack
        the model change the copy, never the evaluated weights."""
        model = copy.deepcopy(self._engine.model)
        model.train()
        return model

    @property
    def model(self) -> torch.nn.Module:
        """The model this context evaluates, on ``device``, in eval mode. Read it, never change
        it: a metric that attacks the model changes a copy (``trainable_copy``, or
        ``copy.deepcopy``) and evaluates the copy through ``derived``."""
        return self._engine.model

    @property
    def tokenizer(self) -> Callable[..., torch.Tensor]:
        """The model's tokenizer (``tokenizer(texts)`` -> token tensor)."""
        return self._engine.tokenizer

    @property
    def preprocess(self) -> Callable[..., torch.Tensor]:
        """The model's evaluation image transform (PIL image -> tensor)."""
        return self._engine.preprocess

    @property
    def device(self) -> torch.device:
        """The device the model is evaluated on."""
        return self._engine.device

    def rng(self, purpose: str) -> np.random.Generator:
        """A generator that depends only on the evaluation seed and ``purpose``."""
        return dedicated_rng(self.settings.seed, purpose)
