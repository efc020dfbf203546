"""salmu-harness: the evaluation harness for SALMUBench (sensitive association-level
multimodal unlearning of CLIP models).

The public API for plugin authors and scripts. Heavy pieces (torch, open_clip) are imported
only when first used, so ``import harness`` stays cheap for tools such as ``validate``.
"""

from __future__ import annotations

import importlib
from typing import Any

from harness.errors import (
    BenchmarkError,
    BudgetExceededError,
    CheckpointError,
    HarnessError,
    NonFiniteModelError,
    ParameterError,
    PluginError,
    ResultError,
    UnknownNameError,
)
from harness.hookspecs import hookimpl
from harness.method import Method
from harness.metric import Metric, MetricOutcome, MetricSuite, SkipMetric, Withheld
from harness.protocol import EvaluationProtocol, protocol_from_json
from harness.versions import PLUGIN_API_VERSION, RESULT_SCHEMA_VERSION, __version__

_LAZY = {
    "RunContext": "harness.context",
    "Batch": "harness.context",
    "SplitView": "harness.context",
    "Budget": "harness.run.budget",
    "EvaluationContext": "harness.evaluation.context",
    "SplitEmbeddings": "harness.evaluation.embeddings",
    "BenchmarkMetadata": "harness.benchmarks.base",
    "RunOptions": "harness.run.settings",
    "RunOutcome": "harness.run.pipeline",
    "run_method": "harness.run.pipeline",
    "evaluate_checkpoint": "harness.run.checkpoints",
    "evaluate_checkpoints": "harness.run.checkpoints",
    "CheckpointFailure": "harness.run.checkpoints",
    "load_plugins": "harness.plugins",
    "load_benchmark": "harness.benchmarks",
    "BenchmarkLoader": "harness.benchmarks.loader",
    "Benchmark": "harness.benchmarks.base",
    "validate_file": "harness.results.validation",
    "training": "harness.training",
    "Reporter": "harness.tracking.reporter",
    "ReporterSession": "harness.tracking.reporter",
    "RunStart": "harness.tracking.reporter",
}

__all__ = [
    "PLUGIN_API_VERSION",
    "RESULT_SCHEMA_VERSION",
    "BenchmarkError",
    "BudgetExceededError",
    "CheckpointError",
    "EvaluationProtocol",
    "HarnessError",
    "Method",
    "Metric",
    "MetricOutcome",
    "MetricSuite",
    "NonFiniteModelError",
    "ParameterError",
    "PluginError",
    "ResultError",
    "SkipMetric",
    "UnknownNameError",
    "Withheld",
    "__version__",
    "hookimpl",
    "protocol_from_json",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    value = module if name == "training" else getattr(module, name)
    globals()[name] = value
    return value
