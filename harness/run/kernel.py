"""One unlearning run, as ``run`` and the conformance kit both do it: seed, load a fresh
Compromised model, give the method its context, run it, check what it returns."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from harness.benchmarks.base import Benchmark, Role
from harness.context import RunContext, SplitView
from harness.errors import HarnessError, NonFiniteModelError
from harness.method import Method
from harness.run.budget import Budget
from harness.run.devices import seed_everything
from harness.run.logs import LOGGER
from harness.run.models import LoadedModel, assert_same_architecture, load_clip, parameter_shapes
from harness.run.settings import RunOptions
from harness.tracking.events import report_step
from harness.training_data.stream import DataPath, default_training_workers

logger = logging.getLogger(LOGGER)


@dataclass
class Unlearned:
    """What the method returned, the student it started from, how long it took, and the
    digest of the student's weights before the method ran."""

    returned: Any
    student: LoadedModel
    shapes: dict[str, tuple[int, ...]]
    seconds: float
    digest_before: str
    data_path: DataPath
    """How the method's batches were made, and the time it waited for them."""

    @property
    def weights_changed(self) -> bool:
        """Whether the returned model's weights differ from the Compromised ones in any bit."""
        return isinstance(self.returned, torch.nn.Module) and (
            weights_digest(self.returned) != self.digest_before
        )

    def checked(self) -> torch.nn.Module:
        """The returned model, if it is a torch model of the same architecture with finite
        weights; a ``HarnessError`` saying what is wrong otherwise."""
        return checked_model(self.returned, self.shapes)


def unlearn_once(
    method: Method,
    parameters: Mapping[str, Any],
    benchmark: Benchmark,
    options: RunOptions,
    device: torch.device,
    budget: Budget,
    guard: Callable[[], AbstractContextManager[Any]] | None = None,
    start_from: Path | None = None,
) -> Unlearned:
    """Run ``method`` once on a fresh copy of the Compromised model, or of the model saved at
    ``start_from`` (a schedule's previous round); ``guard`` wraps the call, e.g. the
    conformance kit's tripwires; the global generators are restored afterwards."""
    seed_everything(options.seed)
    if start_from is None:
        student = load_clip(*model_args(benchmark, "compromised"))
    else:
        student = load_clip(start_from)
    shapes = parameter_shapes(student.model)
    before = weights_digest(student.model)
    method_logger = logging.getLogger(f"{LOGGER}.method.{method.name}")
    data = data_path_of(benchmark, options, device)
    context = make_run_context(student, benchmark, budget, device, options, method_logger, data)
    clock = time.perf_counter()
    devices = [] if device.type == "cpu" else [device]
    with guard() if guard else contextlib.nullcontext(), torch.random.fork_rng(devices=devices):
        returned = method.unlearn(context, dict(parameters))
    return Unlearned(returned, student, shapes, time.perf_counter() - clock, before, data)


def data_path_of(benchmark: Benchmark, options: RunOptions, device: torch.device) -> DataPath:
    """The run's data path: the training image cache unless ``--no-image-cache``, filled by
    one worker per core (at most 8); ``--workers`` batch-preparing workers per split stream,
    by default as many on a GPU and none on a CPU, whose cores the method's steps use."""
    workers = options.num_workers
    cores = default_training_workers()
    return DataPath(
        seed=options.seed,
        workers=(cores if device.type != "cpu" else 0) if workers is None else workers,
        decode_workers=cores if workers is None else workers,
        image_cache=options.image_cache,
        device=device,
        scope=f"{benchmark.name}@{benchmark.revision}",
        show_progress=options.show_progress,
    )


def weights_digest(model: torch.nn.Module) -> str:
    """A sha256 over the names, dtypes, shapes and bytes of every tensor of ``model``."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        data = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{data.dtype}:{tuple(data.shape)}".encode())
        digest.update(data.reshape(-1).view(torch.uint8).numpy().tobytes() if data.numel() else b"")
    return digest.hexdigest()


def make_run_context(
    student: LoadedModel,
    benchmark: Benchmark,
    budget: Budget,
    device: torch.device,
    options: RunOptions,
    method_logger: logging.Logger | None = None,
    data: DataPath | None = None,
) -> RunContext:
    """The context a method receives: its trainable model and budget-counted splits, read
    through ``data`` (by default the run's data path for ``options``)."""
    data = data if data is not None else data_path_of(benchmark, options, device)
    forget = benchmark.split("forget")
    generic = benchmark.metadata["generic_captions"]
    model = student.model.to(device).train()
    for parameter in model.parameters():
        parameter.requires_grad_(True)

    def view(name: str) -> SplitView:
        return SplitView(
            benchmark.split(name),
            budget,
            student.preprocess_train,
            student.tokenizer,
            data=data,
        )

    return RunContext(
        model=model,
        tokenizer=student.tokenizer,
        preprocess_train=student.preprocess_train,
        preprocess_eval=student.preprocess_eval,
        forget=view("forget"),
        retain=view("retain"),
        generic_captions={f: generic[f] for f in forget.file_names if f in generic},
        device=device,
        precision=options.precision,
        seed=options.seed,
        budget=budget,
        logger=method_logger or logger,
        show_progress=options.show_progress,
        compile=options.compile,
        report_step=report_step,
    )


def checked_model(returned: Any, shapes: dict[str, tuple[int, ...]]) -> torch.nn.Module:
    """``returned`` if it is a torch model of exactly these parameter shapes, finite."""
    if not isinstance(returned, torch.nn.Module):
        raise HarnessError(
            f"the method returned {type(returned).__name__}, not a torch model",
            "return the unlearned model from Method.unlearn",
        )
    assert_same_architecture(shapes, returned)
    check_finite(returned, "the unlearned model")
    return returned


def check_finite(model: torch.nn.Module, what: str) -> None:
    """Raise ``NonFiniteModelError`` naming the first NaN or infinite weight."""
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise NonFiniteModelError(
                f"{what} has NaN or infinite weights (first in {name})",
                "lower the learning rate or clip gradients; nothing was saved",
            )


def model_args(benchmark: Benchmark, role: Role) -> tuple[Path, str | None]:
    """Where a reference model's weights are, and its architecture."""
    source = benchmark.models[role]
    return source.path, source.architecture
