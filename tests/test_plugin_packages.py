"""Real plugin distributions, written to a temp dir and pip-installed, as a third party would.

These tests install into the running virtual environment and uninstall afterwards. The commands
run in this process (entry points re-read after each install) except where the process itself
is the subject: a signal, and one check-method case through the installed command.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest

from harness.results.validation import validate_file

#: the source of the throwaway distribution's only module (also imported in-process)
PLUGIN_SOURCE = (Path(__file__).parent / "throwaway_plugin.py").read_text(encoding="utf-8")


def make_package(root: Path, dist: str, module: str, source: str) -> Path:
    folder = root / dist
    (folder / module).mkdir(parents=True)
    (folder / module / "__init__.py").write_text(source)
    (folder / "pyproject.toml").write_text(
        textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{dist}"
        version = "0.0.1"

        [project.entry-points.salmu_harness]
        {module} = "{module}"
    """)
    )
    return folder


def pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "-q", *args], check=True, capture_output=True, text=True
    )


def fresh_cli(*args: str, plugins: str, **kwargs) -> subprocess.CompletedProcess:
    """The installed command in a fresh interpreter: where the process is the subject."""
    env = {**os.environ, "SALMU_HARNESS_PLUGINS": plugins}
    env.update(kwargs.pop("env", {}))
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        **kwargs,
    )


def cli(*args: str, plugins: str, env: dict | None = None) -> types.SimpleNamespace:
    """The command in this process, answering as ``fresh_cli`` does (``returncode``,
    ``stdout``, ``stderr``): the plugins are found through their installed entry points all
    the same, without an interpreter start per call."""
    with pytest.MonkeyPatch.context() as patch:
        result = invoke(*args, plugins=plugins, monkeypatch=patch, env=env)
    return types.SimpleNamespace(
        returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr
    )


def invoke(*args: str, plugins: str, monkeypatch, env: dict | None = None):
    """The command run in this process (no interpreter start-up): for tests whose subject is
    the command's behaviour, not the process boundary. Returns click's result, whose
    ``exit_code``, ``stdout`` and ``stderr`` mirror a subprocess's."""
    import importlib

    from click.testing import CliRunner

    from harness.cli import main

    importlib.invalidate_caches()  # the distributions were installed after this process began
    monkeypatch.setenv("SALMU_HARNESS_PLUGINS", plugins)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugins")
    good = make_package(root, "salmu-throwaway", "salmu_throwaway", PLUGIN_SOURCE)
    broken = make_package(
        root,
        "salmu-broken",
        "salmu_broken",
        "raise RuntimeError('this plugin is broken on purpose')\n",
    )
    pip("install", "--no-deps", "--no-build-isolation", str(good), str(broken))
    yield good
    pip("uninstall", "-y", "salmu-throwaway", "salmu-broken")


@pytest.mark.slow
def test_installed_plugin_is_listed_run_and_uninstalled(
    installed, mini_root: Path, tmp_path: Path
) -> None:
    listing = json.loads(cli("plugins", "--json", plugins="salmu-throwaway,salmu-broken").stdout)
    by_name = {p["name"]: p for p in listing}
    assert by_name["salmu_throwaway"]["status"] == "ok"
    assert by_name["salmu_throwaway"]["methods"] == ["throwaway"]
    assert by_name["salmu_throwaway"]["metrics"] == ["throwaway.max-sim"]
    assert by_name["salmu_broken"]["status"] == "broken"
    assert "this plugin is broken on purpose" in by_name["salmu_broken"]["error"]

    run = cli(
        "run",
        "throwaway",
        "--benchmark",
        str(mini_root),
        "--output",
        str(tmp_path),
        "--metrics",
        "throwaway.max-sim,1.2",
        "--workers",
        "0",
        plugins="salmu-throwaway",
    )
    assert run.returncode == 0, run.stderr
    (result,) = tmp_path.glob("*/result.json")
    assert validate_file(result) == []
    document = json.loads(result.read_text())
    assert document["metrics"]["throwaway.max-sim"]["plugin"]["distribution"] == "salmu-throwaway"
    assert document["budget"]["samples_read"] == {"forget": 4}
    assert {p["distribution"] for p in document["plugins"]} == {"salmu-harness", "salmu-throwaway"}
    assert "MaxSim" in run.stdout
    # the method returns the Compromised model unchanged: the run says so and records it
    assert [w["code"] for w in document["warnings"]] == ["weights-unchanged"]
    assert "warning: weights-unchanged: the method returned the Compromised weights" in run.stdout
    strict = cli("validate", "--strict", str(result), plugins="salmu-throwaway")
    assert strict.returncode == 1
    assert "$.warnings: the method returned the Compromised weights unchanged (a no-op)" in (
        strict.stderr
    )
    # the method's ctx.logger.info line: always in run.log, on stderr only with -v
    log = (result.parent / "run.log").read_text()
    assert "INFO salmu_harness.method.throwaway: throwaway reads 4 forget rows" in log
    assert "throwaway reads" not in run.stderr

    pip("uninstall", "-y", "salmu-throwaway")
    try:
        after = json.loads(cli("plugins", "--json", plugins="salmu-throwaway").stdout)
        assert sorted(p["name"] for p in after) == [
            "harness.builtin.mini",
            "harness.builtin.reporters",
            "harness.builtin.salmubench",
        ]
    finally:
        pip("install", "--no-deps", "--no-build-isolation", str(installed))


@pytest.mark.slow
def test_verbose_runs_show_the_method_log_on_stderr(
    installed, mini_root: Path, tmp_path: Path
) -> None:
    args = ["--benchmark", str(mini_root), "--output", str(tmp_path), "--workers", "0"]
    run = cli(
        "run",
        "throwaway",
        "--set",
        "nudge=0.01",
        "--metrics",
        "1.2",
        "--quiet",
        "-v",
        *args,
        plugins="salmu-throwaway",
    )
    assert run.returncode == 0, run.stderr
    assert "INFO salmu_harness.method.throwaway: throwaway reads 4 forget rows" in run.stderr
    assert "warning:" not in run.stdout  # a nudged model is no no-op
    checked = cli(
        "check-method", "throwaway", "--set", "nudge=0.01", "-v", plugins="salmu-throwaway"
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "throwaway: 7 passed, 0 failed" in checked.stdout
    assert checked.stderr.count("salmu_harness.method.throwaway: throwaway reads 4") == 2


@pytest.mark.slow
@pytest.mark.parametrize(
    ("settings", "check", "reason"),
    # one case through the installed CLI (exit status, the FAIL line); every misbehaviour is
    # checked in-process by tests/authoring/test_conformance.py
    [([], "changes the model", "returned the Compromised weights unchanged: a no-op")],
)
def test_check_method_fails_a_misbehaving_method_with_the_reason(
    installed, mini_root: Path, tmp_path: Path, settings: list[str], check: str, reason: str
) -> None:
    weights = mini_root / "models" / "compromised" / "open_clip_model.safetensors"
    backup = tmp_path / "backup.safetensors"
    shutil.copy2(weights, backup)
    # a misbehaving method also nudges the weights, so that only its misbehaviour fails
    sets = [arg for value in settings for arg in ("--set", value, "--set", "nudge=0.01")]
    try:
        checked = fresh_cli(
            "check-method",
            "throwaway",
            *sets,
            plugins="salmu-throwaway",
            env={"THROWAWAY_COMPROMISED": str(weights)},
        )
    finally:
        shutil.copy2(backup, weights)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    (line,) = [row for row in checked.stdout.splitlines() if f"FAIL  {check}" in row]
    assert reason in line
    assert "Traceback" not in checked.stderr


@pytest.mark.slow
def test_metrics_that_raise_or_return_nan_fail_the_command_not_the_result(
    installed, mini_root: Path, tmp_path: Path
) -> None:
    run = cli(
        "evaluate",
        str(mini_root / "models" / "compromised"),
        "--benchmark",
        str(mini_root),
        "--metrics",
        "bad.raises,bad.nan,bad.bounds,1.2",
        "--output",
        str(tmp_path),
        "--workers",
        "0",
        "--quiet",
        plugins="salmu-throwaway",
        env={"THROWAWAY_BAD_METRICS": "1"},
    )
    assert run.returncode == 1, run.stdout + run.stderr
    (result,) = tmp_path.glob("*/result.json")
    assert validate_file(result) == []
    metrics = json.loads(result.read_text())["metrics"]
    assert {k: m["status"] for k, m in metrics.items()} == {
        "bad.raises": "failed",
        "bad.nan": "failed",
        "bad.bounds": "failed",
        "1.2": "ok",
    }
    assert metrics["bad.raises"]["error"] == "RuntimeError: this metric is broken on purpose"
    assert metrics["bad.nan"]["error"].startswith("bad.nan computed a non-finite value (nan)")
    assert metrics["bad.bounds"]["error"].startswith(
        "bad.bounds computed value = 2.0, outside its declared bounds [0.0, 1.0]"
    )
    assert "Traceback" not in run.stderr


@pytest.mark.slow
def test_broken_plugin_does_not_break_the_cli(installed, monkeypatch) -> None:
    listed = invoke("methods", plugins="salmu-broken", monkeypatch=monkeypatch)
    assert listed.exit_code == 0
    assert "broken plugin salmu_broken (salmu-broken)" in listed.stderr
    run = invoke("run", "broken", plugins="salmu-broken", monkeypatch=monkeypatch)
    assert run.exit_code == 2
    assert "comes from plugin 'salmu_broken'" in run.stderr
    assert "RuntimeError: this plugin is broken on purpose" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.slow
def test_killing_a_run_leaves_no_complete_result(
    installed, mini_root: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "started"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            "throwaway",
            "--set",
            "sleep=120",
            "--benchmark",
            str(mini_root),
            "--output",
            str(tmp_path / "out"),
            "--workers",
            "0",
        ],
        env={
            **os.environ,
            "SALMU_HARNESS_PLUGINS": "salmu-throwaway",
            "THROWAWAY_MARKER": str(marker),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        assert marker.exists(), "the method never started"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        process.kill()
    assert list((tmp_path / "out").rglob("result.json")) == []  # killed before any result
    assert not list((tmp_path / "out").rglob("open_clip_model.safetensors"))


@pytest.mark.slow
def test_a_benchmark_plugin_is_listed_and_evaluates(
    installed, mini_root: Path, tmp_path: Path, monkeypatch
) -> None:
    def cli(*args: str, plugins: str) -> object:  # in this process: the commands are the subject
        result = invoke(*args, plugins=plugins, monkeypatch=monkeypatch)
        result.returncode = result.exit_code  # type: ignore[attr-defined]
        return result

    listed = json.loads(cli("benchmarks", "--json", plugins="salmu-throwaway").stdout)
    copy = next(b for b in listed if b["name"] == "tiny-copy")
    assert copy["distribution"] == "salmu-throwaway"
    assert copy["options"] == {"root": "the benchmark folder to copy"}
    assert {"mini", "salmubench"} <= {b["name"] for b in listed}
    run = cli(
        "evaluate",
        str(mini_root / "models" / "compromised"),
        "--benchmark",
        "tiny-copy",
        "--benchmark-option",
        f"root={mini_root}",
        "--metrics",
        "1.2",
        "--output",
        str(tmp_path),
        "--workers",
        "0",
        "--quiet",
        plugins="salmu-throwaway",
    )
    assert run.returncode == 0, run.stderr
    (result,) = tmp_path.glob("*/result.json")
    assert json.loads(result.read_text())["benchmark"]["name"] == "tiny-copy"
    typo = cli("evaluate", str(result), "--benchmark", "tiny-cpy", plugins="salmu-throwaway")
    assert typo.returncode == 2 and "did you mean 'tiny-copy'" in typo.stderr
    bad = cli(
        "evaluate",
        str(result),
        "--benchmark",
        "tiny-copy",
        "--benchmark-option",
        "size=9",
        plugins="salmu-throwaway",
    )
    assert bad.returncode == 2 and "tiny-copy has no option 'size'" in bad.stderr


BARE_PROTOCOL = {"name": "bare", "version": "1", "description": "no choices", "choices": {}}


@pytest.mark.slow
def test_without_the_builtin_suite_a_third_party_plugin_runs_alone(
    installed, mini_root: Path, tmp_path: Path, monkeypatch
) -> None:
    """The core needs no SALMUBench knowledge: builtins off, a third party's method, metric
    and benchmark run, with no suite, no diagnosis and no retain rows withheld."""
    from harness.plugins import load_plugins
    from harness.reports.leaderboard import build_leaderboard
    from harness.reports.plots import write_plots
    from harness.results.loading import load_results
    from harness.run.pipeline import run_method
    from harness.run.settings import RunOptions

    monkeypatch.setenv("SALMU_HARNESS_PLUGINS", "salmu-throwaway")
    registry = load_plugins(builtins=False)
    assert list(registry.metrics) == ["throwaway.max-sim"] and not registry.suites
    options = RunOptions(
        benchmark="tiny-copy",
        benchmark_options={"root": str(mini_root)},
        protocol=BARE_PROTOCOL,
        budget=1.0,
        output_dir=tmp_path,
        show_progress=False,
        num_workers=0,
    )
    outcome = run_method("throwaway", {}, options, registry)
    document = outcome.document
    assert list(document["metrics"]) == ["throwaway.max-sim"]
    assert "suite" not in document and "diagnosis" not in document
    retain, disjoint = (document["benchmark"]["splits"][s] for s in ("retain", "retain_disjoint"))
    assert retain["rows"] == disjoint["rows"]  # nothing withheld: no suite reads any of it
    board = build_leaderboard(load_results([outcome.result_path]))
    assert board.suite is None and write_plots(board, tmp_path / "plots") == []
    with pytest.raises(Exception, match="unknown protocol 'official'"):
        run_method("throwaway", {}, options.replace(protocol="official"), registry)
