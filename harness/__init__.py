"""salmu-harness: the evaluation harness for SALMUBench (sensitive association-level
multimodal unlearning of CLIP models).

The public API for plugin authors and scripts. Heavy pieces (torch, open_clip) are imported
only when first used, so ``import harness`` stays cheap for tools such as ``validate``; type
checkers see every public name with its real type (the package ships ``py.typed``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:  # what type checkers see; at run time these load on first use (below)
    from harness import training as training
    from harness.benchmarks import load_benchmark as load_benchmark
    from harness.benchmarks.base import Benchmark as Benchmark
    from harness.benchmarks.base import BenchmarkMetadata as BenchmarkMetadata
    from harness.benchmarks.loader import BenchmarkLoader as BenchmarkLoader
    from harness.context import Batch as Batch
    from harness.context import RunContext as RunContext
    from harness.context import SplitView as SplitView
    from harness.evaluation.context import EvaluationContext as EvaluationContext
    from harness.evaluation.embeddings import SplitEmbeddings as SplitEmbeddings
    from harness.plugins import load_plugins as load_plugins
    from harness.results.validation import validate_file as validate_file
    from harness.run.budget import Budget as Budget
    from harness.run.checkpoints import CheckpointFailure as CheckpointFailure
    from harness.run.checkpoints import evaluate_checkpoint as evaluate_checkpoint
    from harness.run.checkpoints import evaluate_checkpoints as evaluate_checkpoints
    from harness.run.pipeline import run_method as run_method
    from harness.run.sections import RunOutcome as RunOutcome
    from harness.run.settings import RunOptions as RunOptions
    from harness.tracking.reporter import Reporter as Reporter
    from harness.tracking.reporter import ReporterSession as ReporterSession
    from harness.tracking.reporter import RunStart as RunStart

_LAZY = {
    "RunContext": "harness.context",
    "Batch": "harness.context",
    "SplitView": "harness.context",
    "Budget": "harness.run.budget",
    "EvaluationContext": "harness.evaluation.context",
    "SplitEmbeddings": "harness.evaluation.embeddings",
    "BenchmarkMetadata": "harness.benchmarks.base",
    "RunOptions": "harness.run.settings",
    "RunOutcome": "harness.run.sections",
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
