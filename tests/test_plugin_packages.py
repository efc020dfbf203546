"""Real plugin distributions, written to a temp dir and pip-installed, as a third party would.

These tests install into the running virtual environment and uninstall afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.results.validation import validate_file

PLUGIN_SOURCE = '''
"""A throwaway plugin: a method that reads one forget batch, and a metric."""
import os
import time

import harness


def unlearn(ctx, params):
    ctx.forget.rows(range(params["rows"]))
    ctx.step()
    marker = os.environ.get("THROWAWAY_MARKER")
    if marker:
        open(marker, "w").write("started")
        time.sleep(params["sleep"])
    return ctx.model


def forget_similarity(ctx):
    sims = ctx.embeddings("forget").pair_similarities()
    return harness.MetricOutcome(value=float(sims.max()), details={"what": "max similarity"})


@harness.hookimpl
def register_methods(register):
    register(harness.Method(
        "throwaway", "Reads a few rows and returns the model unchanged.", "0.0.1", unlearn,
        {"type": "object", "properties": {
            "rows": {"type": "integer", "minimum": 1, "default": 4},
            "sleep": {"type": "number", "minimum": 0, "default": 0}}}))


@harness.hookimpl
def register_metrics(register):
    register(harness.Metric(
        "throwaway.max-sim", "MaxSim", "Largest forget pair similarity.", ("forget",),
        "lower", "clean", "1", forget_similarity, "efficacy", (-1.0, 1.0)))


def load_copy(options):
    import dataclasses

    benchmark = harness.load_benchmark(options["root"])
    return dataclasses.replace(benchmark, name="tiny-copy")


@harness.hookimpl
def register_benchmarks(register):
    register(harness.BenchmarkLoader(
        "tiny-copy", "A benchmark folder under another name.", load_copy,
        {"root": "the benchmark folder to copy"}))
'''


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


def cli(*args: str, plugins: str, **kwargs) -> subprocess.CompletedProcess:
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

    pip("uninstall", "-y", "salmu-throwaway")
    try:
        after = json.loads(cli("plugins", "--json", plugins="salmu-throwaway").stdout)
        assert sorted(p["name"] for p in after) == [
            "harness.builtin.mini",
            "harness.builtin.salmubench",
        ]
    finally:
        pip("install", "--no-deps", "--no-build-isolation", str(installed))


@pytest.mark.slow
def test_broken_plugin_does_not_break_the_cli(installed) -> None:
    listed = cli("methods", plugins="salmu-broken")
    assert listed.returncode == 0
    assert "broken plugin salmu_broken (salmu-broken)" in listed.stderr
    run = cli("run", "broken", plugins="salmu-broken")
    assert run.returncode == 2
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
    results = list((tmp_path / "out").rglob("result.json"))
    assert all(validate_file(path) for path in results)  # none exists, or none validates
    assert not list((tmp_path / "out").rglob("open_clip_model.safetensors"))


@pytest.mark.slow
def test_a_benchmark_plugin_is_listed_and_evaluates(
    installed, mini_root: Path, tmp_path: Path
) -> None:
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
