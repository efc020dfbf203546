"""The run pipeline: method -> unlearned model -> metrics -> result document.

``run_method`` and ``evaluate_checkpoint`` are the Python API behind ``salmu-harness run`` and
``salmu-harness evaluate``. User mistakes (unknown names, bad parameters, bad device) are caught
before any model or dataset is loaded.
"""

from __future__ import annotations

import json
import logging
import resource
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from harness.benchmarks import load_benchmark
from harness.benchmarks.base import Benchmark, Role
from harness.budget import DEFAULT_BUDGET, Budget
from harness.context import RunContext, SplitView
from harness.diagnosis import DiagnosisRules, diagnose
from harness.embeddings import EmbeddingEngine
from harness.errors import HarnessError, NonFiniteModelError, ParameterError
from harness.evaluation import EvaluationContext, EvaluationSettings, evaluate_metrics
from harness.image_cache import ImageCache
from harness.metric import Metric
from harness.models import (
    LoadedModel,
    assert_same_architecture,
    load_clip,
    parameter_shapes,
    save_local_dir,
)
from harness.plugins import Registry, load_plugins
from harness.protocol import DEFAULT_PROTOCOL
from harness.references import ReferenceCache, cache_key
from harness.results import (
    base_document,
    environment,
    error_record,
    metric_entry,
    now,
    plugins_involved,
    write_result,
)
from harness.retain_isolation import (
    TRAINING_RECORD,
    check_isolation,
    training_record,
    with_method_retain,
)
from harness.seeding import check_precision, resolve_device, seed_everything

logger = logging.getLogger("salmu_harness")
RESULT_FILE = "result.json"
MODEL_DIR = "model"


@dataclass
class RunOptions:
    """Everything about a run or evaluation besides the method and its parameters."""

    benchmark: str = "mini"
    benchmark_options: dict[str, Any] = field(default_factory=dict)
    metrics: Sequence[str] | None = None
    device: str = "auto"
    precision: str = "fp32"
    seed: int = 0
    budget: float = DEFAULT_BUDGET
    output_dir: Path = Path("salmu-results")
    batch_size: int | None = None  # None: 256 on CPU, the largest that fits on a GPU
    num_workers: int | None = None
    show_progress: bool = True
    compile: bool = False
    image_cache: bool = True
    evaluation: EvaluationSettings = field(default_factory=EvaluationSettings)
    #: evaluation protocol: a registered name, the path of a protocol file, or its document
    protocol: str | Mapping[str, Any] = DEFAULT_PROTOCOL
    diagnosis: DiagnosisRules = field(default_factory=DiagnosisRules)
    run_id: str | None = None
    #: reference records computed elsewhere (a sweep's driver), by reference cache key
    references: dict[str, dict[str, Any]] | None = None


@dataclass
class RunOutcome:
    """The written result document and where it and the unlearned model are."""

    document: dict[str, Any]
    result_path: Path
    model_path: Path | None = None


def run_method(
    method_name: str,
    parameters: Mapping[str, Any] | None = None,
    options: RunOptions | None = None,
    registry: Registry | None = None,
) -> RunOutcome:
    """Unlearn with ``method_name``, save the model, evaluate it, write the result."""
    options = options or RunOptions()
    registry = registry or load_plugins()
    method = registry.method(method_name)
    resolved = method.resolve_parameters(parameters)
    if not options.budget > 0:
        raise ParameterError(
            f"budget {options.budget} must be a positive multiple", "e.g. --budget 5"
        )
    device, metrics, settings = _prepare(options, registry)
    started, clock = now(), time.perf_counter()
    run_id = options.run_id or _run_id(method.name)
    out_dir = Path(options.output_dir) / run_id
    plugin = registry.plugin_of("method", method.name)
    document = base_document("run", run_id, started)
    document["method"] = {
        "name": method.name,
        "version": method.version,
        "distribution": plugin.distribution,
        "parameters": resolved,
    }
    document["config"] = _config(options, method.name, resolved, settings)
    benchmark = _load_for(options, settings)
    _describe_run(document, benchmark, options, settings, device, registry, metrics, [plugin])
    budget = Budget(options.budget, len(benchmark.split("forget")))
    document["budget"] = budget.to_json()
    try:
        seed_everything(options.seed)
        student = load_clip(*model_args(benchmark, "compromised"))
        shapes = parameter_shapes(student.model)
        context = make_run_context(student, benchmark, budget, device, options)
        method_clock = time.perf_counter()
        with torch.random.fork_rng(devices=[] if device.type == "cpu" else [device]):
            returned = method.unlearn(context, dict(resolved))
        method_seconds = time.perf_counter() - method_clock
        document["budget"] = budget.to_json()
        unlearned = checked_model(returned, shapes)
        record = training_record(benchmark, settings.protocol, settings.seed, document["method"])
        model_path = save_local_dir(
            unlearned.cpu(),
            student.config,
            out_dir / MODEL_DIR,
            {TRAINING_RECORD: json.dumps(record, indent=2, sort_keys=True)},
        )
        evaluated = load_clip(model_path)
        document["models"]["evaluated"] = _model_record(evaluated, f"local:{model_path}", None)
        document["evaluation"]["retain_isolation"] = {
            "status": "guaranteed",
            "overlapping_captions": 0,
            "reason": "the method trained on the retain split of this very evaluation",
        }
        evaluation_clock = time.perf_counter()
        _evaluate_into(document, evaluated, benchmark, metrics, options, settings, device, registry)
        document["cost"] = _cost(
            clock, budget, method_seconds, time.perf_counter() - evaluation_clock
        )
    except Exception as exc:
        _write_failure(document, out_dir, exc, clock, budget)
        raise
    document["finished_at"] = now()
    return RunOutcome(document, write_result(out_dir / RESULT_FILE, document), model_path)


def evaluate_checkpoint(
    checkpoint: str | Path, options: RunOptions | None = None, registry: Registry | None = None
) -> RunOutcome:
    """Evaluate any checkpoint (``local-dir:`` folder or state-dict file) on the benchmark."""
    options = options or RunOptions()
    registry = registry or load_plugins()
    device, metrics, settings = _prepare(options, registry)
    started, clock = now(), time.perf_counter()
    run_id = options.run_id or _run_id(f"evaluate-{Path(str(checkpoint)).name}")
    out_dir = Path(options.output_dir) / run_id
    document = base_document("evaluate", run_id, started)
    document["method"] = None
    document["config"] = _config(options, None, None, settings)
    benchmark = _load_for(options, settings)
    architecture = benchmark.models["compromised"].architecture or _architecture_of(benchmark)
    evaluated = load_clip(checkpoint, architecture=architecture)
    _check_finite(evaluated.model, f"checkpoint {checkpoint}")
    _describe_run(document, benchmark, options, settings, device, registry, metrics, [])
    document["models"]["evaluated"] = _model_record(evaluated, f"local:{checkpoint}", None)
    document["budget"] = None
    document["seeds"]["run"] = None
    document["evaluation"]["retain_isolation"] = _isolation_of(
        document, Path(str(checkpoint).removeprefix("local-dir:")), benchmark, settings
    )
    _evaluate_into(document, evaluated, benchmark, metrics, options, settings, device, registry)
    document["cost"] = _cost(clock, None, 0.0, time.perf_counter() - clock)
    document["finished_at"] = now()
    return RunOutcome(document, write_result(out_dir / RESULT_FILE, document))


def _isolation_of(
    document: dict[str, Any], checkpoint: Path, benchmark: Benchmark, settings: EvaluationSettings
) -> dict[str, Any]:
    evaluated = document["models"]["evaluated"]["sha256"]
    for role in ("compromised", "clean"):
        if evaluated == document["models"][role]["sha256"]:
            return {
                "status": "guaranteed",
                "overlapping_captions": 0,
                "reason": f"the evaluated weights are the benchmark's {role} model, "
                "which no method trained",
            }
    return check_isolation(checkpoint, benchmark, settings.protocol, settings.seed)


def _prepare(
    options: RunOptions, registry: Registry
) -> tuple[torch.device, list[Metric], EvaluationSettings]:
    device = resolve_device(options.device)
    check_precision(options.precision, device)
    metrics = registry.select_metrics(options.metrics)
    if not metrics:
        raise ParameterError(
            "no metric is installed or selected",
            "check `salmu-harness metrics` and SALMU_HARNESS_PLUGINS",
        )
    if options.batch_size is not None and options.batch_size < 1:
        raise ParameterError(f"batch size {options.batch_size} must be at least 1")
    protocol = registry.protocol(options.protocol)
    seed = options.evaluation.seed
    if not 0 <= seed < 2**32 - 1000:
        raise ParameterError(
            f"evaluation seed {seed} is out of range", "use a seed between 0 and 2**32 - 1001"
        )
    return device, metrics, replace(options.evaluation, protocol=protocol)


def _load_for(options: RunOptions, settings: EvaluationSettings) -> Benchmark:
    """The benchmark, with the retain split methods may read under these settings."""
    benchmark = load_benchmark(options.benchmark, options.benchmark_options)
    return with_method_retain(benchmark, settings.protocol, settings.seed)


def _describe_run(
    document: dict[str, Any],
    benchmark: Benchmark,
    options: RunOptions,
    settings: EvaluationSettings,
    device: torch.device,
    registry: Registry,
    metrics: list[Metric],
    extra_plugins: list[Any],
) -> None:
    records = [registry.plugin_of("metric", m.key) for m in metrics] + extra_plugins
    document["plugins"] = plugins_involved(records)
    document["seeds"] = {"run": options.seed, "evaluation": settings.seed}
    document["environment"] = environment(str(device), options.precision)
    document["benchmark"] = benchmark.describe()
    document["models"] = {
        role: {
            "id": src.id,
            "revision": src.revision,
            "path": str(src.path),
            "architecture": src.architecture,
            "sha256": _sha_of(src.path),
        }
        for role, src in benchmark.models.items()
    }
    document["models"]["evaluated"] = None
    document["evaluation"] = settings.to_json()
    document["metrics"] = {}
    document["cost"] = {"wall_seconds": 0.0}


def _evaluate_into(
    document: dict[str, Any],
    evaluated: LoadedModel,
    benchmark: Benchmark,
    metrics: list[Metric],
    options: RunOptions,
    settings: EvaluationSettings,
    device: torch.device,
    registry: Registry,
) -> None:
    images = ImageCache() if options.image_cache else None
    hashes = {role: document["models"][role]["sha256"] for role in ("clean", "compromised")}
    references, cache_info = _references(
        benchmark, metrics, options, settings, device, hashes, images
    )
    engine = _engine(evaluated, options, device, "evaluated", images, benchmark)
    records = evaluate_metrics(EvaluationContext(benchmark, engine, settings), metrics)
    document["evaluation"]["reference_cache"] = cache_info
    if images is not None:
        document["evaluation"]["image_cache"] = {"hits": images.hits, "misses": images.misses}
    document["metrics"] = {
        m.key: metric_entry(
            m,
            registry.plugin_of("metric", m.key),
            records[m.key],
            {role: references[role][m.key] for role in ("clean", "compromised")},
        )
        for m in metrics
    }
    document["diagnosis"] = diagnose(document["metrics"], options.diagnosis)


def _references(
    benchmark: Benchmark,
    metrics: list[Metric],
    options: RunOptions,
    settings: EvaluationSettings,
    device: torch.device,
    hashes: dict[str, str],
    images: ImageCache | None,
) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, int]]:
    cache = ReferenceCache(preloaded=options.references)
    by_key = {m.key: m for m in metrics}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for role in ("clean", "compromised"):
        keys = {
            m.key: cache_key(hashes[role], m, benchmark, settings, options.precision)
            for m in metrics
        }

        def compute(missing: Sequence[str], role: Role = role) -> dict[str, dict[str, Any]]:
            loaded = load_clip(*model_args(benchmark, role))
            engine = _engine(loaded, options, device, role, images, benchmark)
            return evaluate_metrics(
                EvaluationContext(benchmark, engine, settings), [by_key[k] for k in missing]
            )

        out[role] = cache.get_or_compute(keys, compute)
    return out, {"hits": cache.hits, "misses": cache.misses}


def reference_records(
    options: RunOptions, registry: Registry | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Clean and Compromised records of every selected metric, by reference cache key.

    Computed once (or read from the cache) so that a sweep can hand them to every trial;
    also returns the reference cache's hits and misses (misses = metric results computed).
    """
    registry = registry or load_plugins()
    device, metrics, settings = _prepare(options, registry)
    benchmark = _load_for(options, settings)
    hashes = {role: _sha_of(benchmark.models[role].path) for role in ("clean", "compromised")}
    images = ImageCache() if options.image_cache else None
    references, counts = _references(benchmark, metrics, options, settings, device, hashes, images)
    records = {}
    for role in ("clean", "compromised"):
        for metric in metrics:
            key = cache_key(hashes[role], metric, benchmark, settings, options.precision)
            records[key] = references[role][metric.key]
    return records, counts


def _engine(
    loaded: LoadedModel,
    options: RunOptions,
    device: torch.device,
    label: str,
    images: ImageCache | None = None,
    benchmark: Benchmark | None = None,
) -> EmbeddingEngine:
    return EmbeddingEngine(
        loaded.model,
        loaded.tokenizer,
        loaded.preprocess_eval,
        device,
        options.precision,
        batch_size=options.batch_size,
        num_workers=options.num_workers,
        show_progress=options.show_progress,
        label=label,
        image_cache=images,
        cache_scope=f"{benchmark.name}@{benchmark.revision}" if benchmark else "",
        compile=options.compile,
    )


def make_run_context(
    student: LoadedModel,
    benchmark: Benchmark,
    budget: Budget,
    device: torch.device,
    options: RunOptions,
) -> RunContext:
    forget = benchmark.split("forget")
    generic = benchmark.metadata["generic_captions"]
    model = student.model.to(device).train()
    for parameter in model.parameters():
        parameter.requires_grad_(True)

    def view(name: str) -> SplitView:
        return SplitView(benchmark.split(name), budget, student.preprocess_train, student.tokenizer)

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
        logger=logger,
        show_progress=options.show_progress,
        compile=options.compile,
    )


def checked_model(returned: Any, shapes: dict[str, tuple[int, ...]]) -> torch.nn.Module:
    if not isinstance(returned, torch.nn.Module):
        raise HarnessError(
            f"the method returned {type(returned).__name__}, not a torch model",
            "return the unlearned model from Method.unlearn",
        )
    assert_same_architecture(shapes, returned)
    _check_finite(returned, "the unlearned model")
    return returned


def _check_finite(model: torch.nn.Module, what: str) -> None:
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise NonFiniteModelError(
                f"{what} has NaN or infinite weights (first in {name})",
                "lower the learning rate or clip gradients; nothing was saved",
            )


def _write_failure(
    document: dict[str, Any], out_dir: Path, exc: BaseException, clock: float, budget: Budget | None
) -> None:
    document["status"] = "failed"
    document["error"] = error_record(exc)
    document["metrics"] = {}
    document.setdefault("models", {}).setdefault("evaluated", None)
    if budget is not None:
        document["budget"] = budget.to_json()
    document["cost"] = _cost(clock, budget, 0.0, 0.0)
    document["finished_at"] = now()
    required = ("plugins", "seeds", "environment", "benchmark", "models", "evaluation")
    if all(k in document for k in required):
        try:
            write_result(out_dir / RESULT_FILE, document)
        except HarnessError:
            logger.exception("could not record the failed run")


def _cost(
    clock: float, budget: Budget | None, method_s: float, evaluation_s: float
) -> dict[str, Any]:
    cost: dict[str, Any] = {
        "wall_seconds": round(time.perf_counter() - clock, 3),
        "method_seconds": round(method_s, 3),
        "evaluation_seconds": round(evaluation_s, 3),
        "peak_memory_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    if budget is not None:
        cost["optimizer_steps"] = budget.optimizer_steps
        cost["samples_read"] = dict(sorted(budget.reads.items()))
    if torch.cuda.is_available():
        cost["peak_gpu_memory_bytes"] = int(torch.cuda.max_memory_allocated())
    return cost


def _config(
    options: RunOptions,
    method: str | None,
    parameters: dict[str, Any] | None,
    settings: EvaluationSettings,
) -> dict[str, Any]:
    protocol = settings.protocol
    assert protocol is not None  # resolved by _prepare
    return {
        "method": method,
        "parameters": parameters,
        # by name when chosen by name; a protocol from a file is recorded whole
        "protocol": protocol.name if options.protocol == protocol.name else protocol.to_json(),
        "benchmark": options.benchmark,
        "benchmark_options": {k: str(v) for k, v in options.benchmark_options.items()},
        "metrics": list(options.metrics) if options.metrics else None,
        "device": options.device,
        "precision": options.precision,
        "seed": options.seed,
        "budget": options.budget if method else None,
        "batch_size": options.batch_size,
        "compile": options.compile,
        "image_cache": options.image_cache,
    }


def model_args(benchmark: Benchmark, role: Role) -> tuple[Path, str | None]:
    source = benchmark.models[role]
    return source.path, source.architecture


def _architecture_of(benchmark: Benchmark) -> str | None:
    path = benchmark.models["compromised"].path
    return f"local-dir:{path}" if path.is_dir() else None


def _sha_of(path: Path) -> str:
    from harness.models import WEIGHTS_IN_DIR, file_sha256

    if path.is_dir():
        path = next(path / n for n in WEIGHTS_IN_DIR if (path / n).is_file())
    return file_sha256(path)


def _model_record(loaded: LoadedModel, model_id: str, revision: str | None) -> dict[str, Any]:
    return {
        "id": model_id,
        "revision": revision,
        "path": str(loaded.weights_path),
        "architecture": loaded.architecture,
        "sha256": loaded.sha256,
    }


def _run_id(label: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in label)[:60]
    return f"{safe}-{stamp}-{uuid.uuid4().hex[:6]}"
