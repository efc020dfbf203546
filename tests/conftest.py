"""Shared fixtures: an isolated environment, and one test-scale SALMU-mini per session.

Third-party plugins never autoload here (``SALMU_HARNESS_PLUGINS`` is empty unless a test sets
it), nothing can reach a hub (``HF_HUB_OFFLINE=1``), and every cache lives in a temp folder.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_SESSION_ROOT = Path(tempfile.mkdtemp(prefix="salmu-tests-"))
atexit.register(shutil.rmtree, _SESSION_ROOT, ignore_errors=True)  # a mini build each: 90 MB
os.environ.update(
    {
        "SALMU_HARNESS_PLUGINS": "",
        "SALMU_HARNESS_CACHE": str(_SESSION_ROOT / "cache"),
        "SALMU_HARNESS_QUIET": "1",
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HOME": str(_SESSION_ROOT / "hf"),
    }
)


#: fixtures that build SALMU-mini or run methods on it: tests using them are ``slow``
SLOW_FIXTURES = {"mini_root"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` every test that needs SALMU-mini, however indirectly (``-m "not slow"``
    then never builds it)."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def mini_root() -> Path:
    """The test-scale SALMU-mini (data + trained pair), built once per session."""
    from harness.builtin.mini.build import build_mini

    return build_mini("test", 0, show_progress=False)  # in $SALMU_HARNESS_CACHE, as users get it


@pytest.fixture(scope="session")
def mini_benchmark(mini_root: Path):
    from harness.benchmarks.local import load_local_benchmark

    return load_local_benchmark(mini_root)


@pytest.fixture(scope="session")
def baselines_registry():
    """The built-in metrics plus the first-party baselines plugin (installed in the venv)."""
    from harness.plugins import load_plugins

    previous = os.environ.get("SALMU_HARNESS_PLUGINS")
    os.environ["SALMU_HARNESS_PLUGINS"] = "salmu-baselines"
    try:
        registry = load_plugins()
    finally:
        os.environ["SALMU_HARNESS_PLUGINS"] = previous or ""
    assert "finetune" in registry.methods, "install ./plugins/salmu-baselines to run the tests"
    return registry


@pytest.fixture(scope="session")
def finetune_outcome(mini_root: Path, baselines_registry, tmp_path_factory):
    """One real run of finetune on the test mini, shared by tests that read its result."""
    from harness.run.pipeline import run_method
    from harness.run.settings import RunOptions

    options = RunOptions(
        benchmark=str(mini_root),
        output_dir=tmp_path_factory.mktemp("runs"),
        show_progress=False,
        num_workers=0,
        budget=1.0,
        run_id="finetune-seed0",
    )
    return run_method("finetune", COMPARED_PARAMETERS, options, baselines_registry)


#: methods x seeds of the comparison fixture (leaderboard, compare, plot, bundles)
COMPARED_METHODS = ("finetune", "neggrad", "generic-captions")
COMPARED_SEEDS = (0, 1, 2)
COMPARED_PARAMETERS = {"lr": 1e-4, "batch_size": 16}


@pytest.fixture(scope="session")
def compared_results(
    mini_root: Path, baselines_registry, finetune_outcome, tmp_path_factory
) -> list:
    """Real runs on the test mini: three methods x three seeds, each one a bundle (finetune's
    seed 0 is ``finetune_outcome``'s run, copied, not run again)."""
    from harness.results.bundle import write_bundle
    from harness.run.pipeline import run_method
    from harness.run.sections import RunOutcome
    from harness.run.settings import RunOptions

    out = tmp_path_factory.mktemp("compared")
    outcomes = []
    for method in COMPARED_METHODS:
        for seed in COMPARED_SEEDS:
            if (method, seed) == ("finetune", 0):
                folder = out / "finetune-seed0"
                shutil.copytree(finetune_outcome.result_path.parent, folder)
                outcome = RunOutcome(
                    finetune_outcome.document, folder / "result.json", folder / "model"
                )
                write_bundle(folder, outcome.document, ["salmu-baselines"])
                outcomes.append(outcome)
                continue
            options = RunOptions(
                benchmark=str(mini_root),
                output_dir=out,
                show_progress=False,
                num_workers=0,
                budget=1.0,
                seed=seed,
                run_id=f"{method}-seed{seed}",
            )
            outcome = run_method(method, COMPARED_PARAMETERS, options, baselines_registry)
            write_bundle(outcome.result_path.parent, outcome.document, ["salmu-baselines"])
            outcomes.append(outcome)
    return outcomes
