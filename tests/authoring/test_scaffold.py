"""``new-plugin`` packages install, pass their own tests and run under the harness."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.authoring.scaffold import new_plugin
from harness.cli import main
from harness.errors import ParameterError
from harness.results.validation import validate_file


def run(*args: str, cwd: Path | None = None, plugins: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "SALMU_HARNESS_PLUGINS": plugins}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_generated_plugins_install_pass_their_tests_and_run(
    mini_root: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(main, ["new-plugin", "foo", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    method = tmp_path / "salmu-method-foo"
    metric = new_plugin("bar", "metric", tmp_path)
    benchmark = new_plugin("baz", "benchmark", tmp_path)
    assert (method / ".github" / "workflows" / "ci.yml").read_text().count("salmu-harness") == 3
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    assert run(*pip, str(method), str(metric), str(benchmark)).returncode == 0
    dists = "salmu-method-foo,salmu-metric-bar,salmu-benchmark-baz"
    try:
        # each package's tests, as its CI runs them (`pytest`), all three in one interpreter
        folders = [str(package / "tests") for package in (method, metric, benchmark)]
        tests = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *folders)
        assert tests.returncode == 0, tests.stdout + tests.stderr
        assert " 0 failed" not in tests.stdout and "passed" in tests.stdout
        listed = json.loads(
            run(sys.executable, "-m", "harness.cli", "plugins", "--json", plugins=dists).stdout
        )
        assert {p["distribution"] for p in listed} >= set(dists.split(","))
        assert all(p["status"] == "ok" for p in listed), listed
        out = tmp_path / "out"
        runs = run(
            sys.executable,
            "-m",
            "harness.cli",
            "run",
            "foo",
            "--benchmark",
            "baz",
            "--benchmark-option",
            f"folder={mini_root}",
            "--budget",
            "1",
            "--metrics",
            "bar,1.1",
            "--output",
            str(out),
            "--workers",
            "0",
            "--quiet",
            plugins=dists,
        )
        assert runs.returncode == 0, runs.stderr
        (path,) = out.glob("*/result.json")
        assert validate_file(path) == []
        document = json.loads(path.read_text())
        assert document["metrics"]["bar"]["status"] == "ok"
        recorded = {p["distribution"]: p for p in document["plugins"]}
        assert set(dists.split(",")) <= set(recorded)  # method, metric and benchmark
        assert recorded["salmu-benchmark-baz"]["version"] == "0.1.0"
        assert recorded["salmu-benchmark-baz"]["provides"] == ["baz"]
        # `evaluate` with the benchmark plugin: the package's own test (run above) evaluates
        # through harness.evaluate_checkpoint and checks that the result records the plugin
    finally:
        run(
            sys.executable,
            "-m",
            "pip",
            "uninstall",
            "-y",
            "-q",
            "salmu-method-foo",
            "salmu-metric-bar",
            "salmu-benchmark-baz",
        )


def test_bad_names_and_existing_folders(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="is invalid"):
        new_plugin("Foo Bar", "method", tmp_path)
    new_plugin("foo", "method", tmp_path)
    with pytest.raises(ParameterError, match="already exists"):
        new_plugin("foo", "method", tmp_path)


def test_scaffolds_agree_with_the_docs_and_use_the_public_api_only(tmp_path: Path) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text("utf-8")
    for kind in ("method", "metric", "benchmark"):
        folder = new_plugin("foo", kind, tmp_path / kind)
        module = f"salmu_{kind}_foo"
        pyproject = (folder / "pyproject.toml").read_text()
        assert f'[project.entry-points.salmu_harness]\n{module} = "{module}"' in pyproject
        ignored = (folder / ".gitignore").read_text().split()
        assert {"__pycache__/", "*.egg-info/", ".venv/", "salmu-results/"} <= set(ignored)
        test_source = (folder / "tests" / f"test_{module}.py").read_text()
        imports = [
            line for line in test_source.splitlines() if line.startswith(("import ", "from "))
        ]
        assert all(
            line.startswith("from harness import") or line in ("import harness", "import pytest")
            for line in imports
        ), imports
    assert 'salmu_method_foo = "salmu_method_foo"' in docs  # the docs' example is the scaffold's
