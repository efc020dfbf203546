"""``check_method`` passes a well-behaved method and fails each misbehaviour with its reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.authoring.conformance import Check, check_method
from harness.plugins import PluginRecord, Registry, load_plugins
from tests import throwaway_plugin

CHECKS = [
    "architecture",
    "changes the model",
    "compromised untouched",
    "budget",
    "isolation",
    "deterministic",
    "reload",
]


@pytest.fixture(scope="module")
def registry(mini_root: Path) -> Registry:
    """The built-in plugins plus the throwaway method, registered in-process."""
    registry = load_plugins(third_party=False)
    record = PluginRecord("throwaway", "tests", "0")
    throwaway_plugin.register_methods(
        register=lambda method: registry.methods.__setitem__(method.name, (method, record))
    )
    return registry


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


@pytest.mark.slow
def test_a_well_behaved_method_passes_every_check(
    registry: Registry, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    checks = check_method("throwaway", {"nudge": 0.01}, registry=registry)
    assert list(tmp_path.iterdir()) == []  # the check writes nothing where it runs
    assert [c.name for c in checks] == CHECKS
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]
    assert "samples read {'forget': 4}" in by_name(checks)["budget"].detail


@pytest.mark.slow
def test_a_no_op_fails_changes_the_model_and_nothing_else(registry: Registry) -> None:
    checks = by_name(check_method("throwaway", {}, registry=registry))
    failed = {name for name, check in checks.items() if not check.passed}
    assert failed == {"changes the model"}
    assert (
        "returned the Compromised weights unchanged: a no-op" in checks["changes the model"].detail
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("misbehave", "check", "reason"),
    [
        ("overrun", "budget", "would exceed the budget of 2x"),
        ("holdout", "isolation", "the method loaded the benchmark itself"),
        ("random", "deterministic", "two runs with the same seed gave different weights"),
        ("nan", "architecture", "has NaN or infinite weights (first in positional_embedding)"),
    ],
)
def test_each_misbehaviour_fails_its_check_with_the_reason(
    registry: Registry, misbehave: str, check: str, reason: str
) -> None:
    checks = by_name(
        check_method("throwaway", {"nudge": 0.01, "misbehave": misbehave}, registry=registry)
    )
    assert not checks[check].passed
    assert reason in checks[check].detail


@pytest.mark.slow
def test_writing_into_the_compromised_checkpoint_fails_compromised_untouched(
    registry: Registry, mini_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    weights = mini_root / "models" / "compromised" / "open_clip_model.safetensors"
    backup = tmp_path / "backup.safetensors"
    shutil.copy2(weights, backup)
    monkeypatch.setenv("THROWAWAY_COMPROMISED", str(weights))
    try:
        checks = by_name(
            check_method("throwaway", {"nudge": 0.01, "misbehave": "tamper"}, registry=registry)
        )
    finally:
        shutil.copy2(backup, weights)
    assert not checks["compromised untouched"].passed
    assert checks["compromised untouched"].detail.startswith(
        "the Compromised weights (in memory or in their checkpoint file) changed"
    )
    assert checks["deterministic"].passed is False  # the second run started from the damage


@pytest.mark.slow
def test_the_guards_are_gone_after_the_check(registry: Registry) -> None:
    import harness
    import harness.benchmarks
    from harness.run import models

    vars(harness).pop("load_benchmark", None)  # not yet bound, as in a fresh process
    check_method("throwaway", {"nudge": 0.01, "misbehave": "holdout"}, registry=registry)
    assert harness.load_benchmark is harness.benchmarks.load_benchmark
    assert harness.load_benchmark.__name__ == "load_benchmark"
    assert models.load_clip.__name__ == "load_clip"
