"""Running a sweep's trials as Ray tasks: the only module of the harness that imports Ray.

The references are computed once, as one Ray task with the trials' resources, and put in Ray's
object store; every trial task receives the same object and never recomputes them. Results are
written by the driver as each trial finishes, so stopping the sweep (Ctrl-C) loses nothing that
finished: the trials in flight are cancelled and run again next time.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.storage import write_json_atomic
from harness.sweeps import state
from harness.sweeps.secrets import redact
from harness.sweeps.spec import Sweep, Trial
from harness.sweeps.trial import compute_references, execute_trial

logger = logging.getLogger("salmu_harness")

#: environment variables that trials must see as the driver does (never Ray's token: workers are
#: already members of the cluster, and the runtime environment is stored in the cluster)
FORWARDED_ENV = (
    "SALMU_HARNESS_CACHE",
    "SALMU_HARNESS_PLUGINS",
    "SALMU_HARNESS_QUIET",
    "HF_HOME",
    "HF_HUB_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "HF_TOKEN",
)


class SweepInterrupted(HarnessError):
    """The sweep was stopped; finished trials are kept."""

    exit_code = 130


@dataclass
class SweepSummary:
    """What one run of a sweep did."""

    ran: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    references: dict[str, int] = field(default_factory=dict)
    nodes: dict[str, str] = field(default_factory=dict)
    """The Ray nodes that ran this run's trials: node id -> host."""


def _placed_trial(
    trial: dict[str, Any], settings: dict[str, Any], references: dict[str, Any]
) -> dict[str, Any]:
    """``execute_trial`` on a Ray worker, with the node that ran it (Ray node id, host name)."""
    import ray

    outcome = execute_trial(trial, settings, references)
    outcome["node"] = {"id": ray.get_runtime_context().get_node_id(), "host": socket.gethostname()}
    return outcome


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise HarnessError(
            "sweeps run on Ray, which is not installed",
            "pip install 'salmu-harness[ray]'",
        ) from exc
    return ray


def run_sweep(
    sweep: Sweep,
    trials: list[Trial],
    root: Path,
    address: str | None = None,
    max_concurrent: int | None = None,
    on_trial_done: Callable[[Trial, str], None] | None = None,
) -> SweepSummary:
    """Run every trial of ``trials`` that is not done, on Ray; write results as they finish."""
    ray = import_ray()
    root = Path(root)
    state.write_sweep(root, sweep, trials)
    done = state.statuses(root, trials)
    todo = [t for t in trials if done[t.key] != "done"]
    summary = SweepSummary(skipped=len(trials) - len(todo))
    if not todo:
        return summary
    env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
    started_here = not ray.is_initialized()
    if started_here:
        _start_ray(ray, address, env)
    resources = {"num_cpus": sweep.resources["cpus"], "num_gpus": sweep.resources["gpus"]}
    try:
        _check_feasible(ray, sweep.resources, local=address is None)
    except HarnessError:
        if started_here:
            ray.shutdown()
        raise
    settings = sweep.run_settings()
    in_flight: dict[Any, Trial] = {}
    try:
        references_task = ray.remote(compute_references).options(**resources, max_retries=0)
        records, counts = _references(ray, references_task.remote(settings))
        summary.references = counts
        write_json_atomic(
            root / state.REFERENCES_FILE,
            {
                "computed": counts["misses"],
                "read_from_cache": counts["hits"],
                "records": len(records),
            },
        )
        shared = ray.put(records)
        trial_task = ray.remote(_placed_trial).options(**resources, max_retries=0)
        limit = max_concurrent or len(todo)
        queue = list(todo)
        while queue or in_flight:
            while queue and len(in_flight) < limit:
                trial = queue.pop(0)
                in_flight[trial_task.remote(trial.to_json(), settings, shared)] = trial
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            trial = in_flight.pop(ready[0])
            outcome = _outcome(ray, ready[0])
            summary.ran += 1
            if outcome.get("node"):
                state.record_node(root, trial, outcome["node"])
                summary.nodes[outcome["node"]["id"]] = outcome["node"]["host"]
            if outcome["status"] == "ok":
                state.record_result(root, trial, outcome["document"])
                summary.succeeded += 1
            else:
                state.record_failure(root, trial, redact(outcome["error"]))
                summary.failed += 1
            if on_trial_done:
                on_trial_done(trial, outcome["status"])
    except KeyboardInterrupt as exc:
        for reference in in_flight:
            ray.cancel(reference, force=True)
        raise SweepInterrupted(
            f"sweep stopped: {summary.succeeded} trials finished in this run, "
            f"{len(in_flight)} in flight were cancelled",
            "run the same command again: finished trials are kept and skipped",
        ) from exc
    finally:
        if started_here:
            ray.shutdown()
    return summary


def _start_ray(ray: Any, address: str | None, env: dict[str, str]) -> None:
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "runtime_env": {"env_vars": env},
    }
    if address is None:  # a fresh local instance, even where RAY_ADDRESS points elsewhere
        options.update(address="local", object_store_memory=256 * 1024**2)
    else:
        options["address"] = address
        _probe_authentication(address)
    try:
        ray.init(**options)
    except Exception as exc:  # unreachable address, bad auth, port in use, ...
        if _is_authentication_error(exc):
            raise _authentication_refused(address) from None
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise HarnessError(
            f"could not start or reach {where}: {redact(str(exc))}",
            "check --ray-address (e.g. auto on a cluster node, ray://HEAD:10001 from outside); "
            "a cluster with token authentication also needs RAY_AUTH_TOKEN or "
            "RAY_AUTH_TOKEN_PATH (docs/sweeps.md, Clusters)",
        ) from None


def _probe_authentication(address: str) -> None:
    """Ask the cluster's GCS once whether it accepts this driver's token, so that a missing or
    wrong token ends in one clear message instead of Ray's minute of retries. Addresses the
    probe cannot reach (``ray://`` clients, ``auto``) are left to ``ray.init``."""
    if "://" in address or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except (OSError, ValueError) as exc:
        raise HarnessError(
            f"could not reach the Ray cluster at {address}: {exc}",
            "check --ray-address (the head node's GCS address, e.g. HEAD:6379) and that the "
            "head node is running (`ray status --address ADDRESS` on it)",
        ) from None
    try:
        from ray._raylet import (  # type: ignore[attr-defined]  # private: failures ignored
            GcsClient,
        )
    except ImportError:
        return
    try:
        GcsClient(address=address)
    except Exception as exc:
        if _is_authentication_error(exc):
            raise _authentication_refused(address) from None


def _is_authentication_error(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}"
    return "AuthenticationError" in text or "InvalidAuthToken" in text


def _authentication_refused(address: str | None) -> HarnessError:
    return HarnessError(
        f"the Ray cluster at {address} refused this driver: its token authentication needs the "
        "cluster's token, which this process does not have or has wrong",
        "set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN to the cluster's token, or "
        "RAY_AUTH_TOKEN_PATH to its token file (on the head node: `ray get-auth-token`); "
        "see docs/sweeps.md, Clusters",
    )


def _check_feasible(ray: Any, wanted: dict[str, float], local: bool) -> None:
    """Refuse a sweep whose trials could never be placed (Ray would wait for ever)."""
    total = ray.cluster_resources()
    have = {"cpus": total.get("CPU", 0.0), "gpus": total.get("GPU", 0.0)}
    short = [f"{wanted[k]:g} {k}" for k in ("cpus", "gpus") if wanted[k] > have[k]]
    if not short:
        return
    message = (
        f"each trial asks for {' and '.join(short)}, but the Ray cluster has "
        f"{have['cpus']:g} CPUs and {have['gpus']:g} GPUs"
    )
    if local:
        raise HarnessError(message, "lower 'resources' in the sweep file, or use --ray-address")
    logger.warning("%s; waiting for the cluster to scale up", message)


def _references(ray: Any, reference: Any) -> tuple[dict[str, Any], dict[str, int]]:
    try:
        return ray.get(reference)
    except Exception as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, HarnessError):
            raise cause from None
        raise HarnessError(
            f"computing the sweep's references failed: {cause or exc}",
            "check the benchmark with `salmu-harness evaluate` first",
        ) from exc


def _outcome(ray: Any, reference: Any) -> dict[str, Any]:
    try:
        return ray.get(reference)
    except Exception as exc:  # the worker died (out of memory, killed): record, go on
        return {
            "status": "failed",
            "error": {
                "type": type(exc).__name__,
                "message": redact(str(exc))[:2000],
                "hint": None,
            },
        }
