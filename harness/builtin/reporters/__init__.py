"""The first-party reporters, MLflow and Weights & Biases, registered through the same
``register_reporters`` hook a third party would use. Each imports its library only when chosen
(``--report-to``), and names the extra that installs it when the library is missing."""

from __future__ import annotations

from collections.abc import Callable

from harness.errors import HarnessError
from harness.hookspecs import hookimpl
from harness.tracking.reporter import Reporter, ReporterSession, RunStart


def missing_library(module: str, product: str, extra: str) -> HarnessError:
    """The error of a reporter whose library is not installed."""
    return HarnessError(
        f"--report-to {extra} needs {product}, and the {module} package is not installed",
        f"pip install 'salmu-harness[{extra}]'",
    )


def _open_mlflow(start: RunStart) -> ReporterSession:
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise missing_library("mlflow", "MLflow", "mlflow") from None
    from harness.builtin.reporters.mlflow_reporter import MlflowSession

    return MlflowSession(start)


def _open_wandb(start: RunStart) -> ReporterSession:
    try:
        import wandb  # noqa: F401
    except ImportError:
        raise missing_library("wandb", "Weights & Biases", "wandb") from None
    from harness.builtin.reporters.wandb_reporter import WandbSession

    return WandbSession(start)


MLFLOW = Reporter(
    name="mlflow",
    description="MLflow: params, per-step loss, per-metric values and result.json as an artefact "
    "(MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_NAME)",
    open=_open_mlflow,
)
WANDB = Reporter(
    name="wandb",
    description="Weights & Biases: config, per-step loss, summary metrics and result.json as an "
    "artifact "
    "(WANDB_PROJECT, WANDB_MODE=offline, WANDB_DIR)",
    open=_open_wandb,
)


@hookimpl
def register_reporters(register: Callable[[Reporter], None]) -> None:
    register(MLFLOW)
    register(WANDB)
