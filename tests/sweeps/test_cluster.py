"""Sweeps on a real two-node Ray cluster with token authentication, on loopback addresses.

The fixture starts a head and a second node as separate ``ray start`` processes, each bound to
127.0.0.1 with its own temp folder, and stops exactly the processes whose command line names
that folder (and their children), by their ids, whatever the test did.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from harness.sweeps import state
from harness.sweeps.spec import expand_trials, load_sweep
from harness.sweeps.trial import compute_references, execute_trial

pytestmark = pytest.mark.slow
RAY = Path(sys.executable).with_name("ray")
SWEEP = {
    "name": "cluster",
    "seeds": [0, 1],
    "budgets": [0.5],
    "resources": {"cpus": 1},
    "methods": {"finetune": {"parameters": {"lr": {"grid": [1e-5, 1e-4]}, "batch_size": 16}}},
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _processes_naming(marker: str) -> list[int]:
    """Ids of the processes whose command line contains ``marker``, and their children."""
    named, parents = set(), {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
            parents[int(entry.name)] = int(
                (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            )
        except (OSError, IndexError, ValueError):
            continue
        if marker in command:
            named.add(int(entry.name))
    found, grew = set(named), True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in found} - found
        found |= children
        grew = bool(children)
    return sorted(found)


def _stop(marker: str) -> None:
    pids = _processes_naming(marker)
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
            time.sleep(0.2)
        pids = [p for p in pids if Path(f"/proc/{p}").exists()]
        if not pids:
            return


def _nodes_alive(address: str, env: dict[str, str]) -> int:
    status = subprocess.run(
        [str(RAY), "status", f"--address={address}"], env=env, capture_output=True, text=True
    )
    return sum(line.strip().startswith("1 node_") for line in status.stdout.splitlines())


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[str, str, dict[str, str]]]:
    """(address, token, environment) of a running two-node cluster with token authentication."""
    if not RAY.exists():
        pytest.skip("the ray command is not installed")
    temp = tempfile.mkdtemp(prefix="salmu-ray-", dir="/tmp")  # short: Ray's socket paths
    token = secrets.token_hex(32)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token, RAY_USAGE_STATS_ENABLED="0")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats"]
    try:
        head = [str(RAY), "start", "--head", f"--port={port}", f"--temp-dir={temp}"]
        subprocess.run(
            [*head, "--include-dashboard=false", *common],
            env=env,
            check=True,
            capture_output=True,
            timeout=180,
        )
        subprocess.run(
            [str(RAY), "start", f"--address={address}", *common],
            env=env,
            check=True,
            capture_output=True,
            timeout=180,
        )
        deadline = time.monotonic() + 60
        while _nodes_alive(address, env) < 2 and time.monotonic() < deadline:
            time.sleep(1)
        assert _nodes_alive(address, env) == 2, "the second node did not join"
        yield address, token, env
    finally:
        _stop(temp)
        assert not _processes_naming(temp), "a Ray process of the test survived"
        shutil.rmtree(temp, ignore_errors=True)


def _sweep(mini_root: Path, folder: Path) -> Path:
    path = folder / "sweep.json"
    path.write_text(json.dumps({**SWEEP, "benchmark": str(mini_root)}))
    return path


def _harness(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    env = {**env, "SALMU_HARNESS_PLUGINS": "salmu-baselines"}
    command = [sys.executable, "-m", "harness.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, **kwargs)


def test_a_driver_without_the_token_gets_one_clear_message(cluster, tmp_path) -> None:
    address, _, env = cluster
    started = time.monotonic()
    wrong = {**env, "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    sweep = tmp_path / "s.json"
    sweep.write_text(json.dumps({**SWEEP, "benchmark": "mini"}))
    refused = _harness(
        ["sweep", str(sweep), "--ray-address", address, "--output", str(tmp_path / "o")], wrong
    )
    assert refused.returncode == 2, refused.stderr
    assert "refused this driver" in refused.stderr and "RAY_AUTH_TOKEN" in refused.stderr
    assert "Traceback" not in refused.stderr and time.monotonic() - started < 60
    assert not list((tmp_path / "o").glob("trials/*"))


def test_trials_spread_over_both_nodes_survive_ctrl_c_and_equal_a_local_run(
    cluster, mini_root, tmp_path
) -> None:
    address, token, env = cluster
    sweep = _sweep(mini_root, tmp_path)
    out = tmp_path / "remote"
    harness_env = {**env, "SALMU_HARNESS_PLUGINS": "salmu-baselines"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "sweep",
            str(sweep),
            "--ray-address",
            address,
            "--output",
            str(out),
            "--max-concurrent",
            "1",
        ],
        env=harness_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 300
    while not list(out.glob("trials/*/result.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    interrupted, _ = process.communicate(timeout=300)
    assert process.returncode == 130, interrupted
    assert _nodes_alive(address, env) == 2  # Ctrl-C left the cluster running

    rerun = _harness(["sweep", str(sweep), "--ray-address", address, "--output", str(out)], env)
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]
    assert "ran on 2 Ray node(s)" in rerun.stdout
    trials = expand_trials(load_sweep(sweep), _registry())
    placed = state.nodes(out, trials)
    assert len(placed) == 4 and len({p["id"] for p in placed.values()}) == 2

    # the same trials run here, without Ray (what a local sweep's workers run), give the same
    # metrics: tests/sweeps/test_sweeps.py runs a whole local Ray sweep
    settings = load_sweep(sweep).run_settings()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in a Ray worker of one CPU: the same reduction order
    try:
        with _plugins("salmu-baselines"):
            references, _ = compute_references(settings)
            for trial in trials:
                local = execute_trial(trial.to_json(), settings, references)
                assert local["status"] == "ok", local
                remote_doc = state.load_result(out, trial)
                assert remote_doc["metrics"] == local["document"]["metrics"], trial.key
    finally:
        torch.set_num_threads(threads)

    written = [p.read_text(errors="replace") for p in out.rglob("*") if p.is_file()]
    printed = interrupted + rerun.stdout + rerun.stderr
    assert written and not any(token in text for text in written) and token not in printed


@contextlib.contextmanager
def _plugins(allowed: str) -> Iterator[None]:
    """SALMU_HARNESS_PLUGINS set to ``allowed`` in this process while the block runs."""
    previous = os.environ.get("SALMU_HARNESS_PLUGINS")
    os.environ["SALMU_HARNESS_PLUGINS"] = allowed
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SALMU_HARNESS_PLUGINS"]
        else:
            os.environ["SALMU_HARNESS_PLUGINS"] = previous


def _registry():
    from harness.plugins import load_plugins

    with _plugins("salmu-baselines"):
        return load_plugins()
