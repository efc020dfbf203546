"""A pytest plugin (entry point ``pytest11``) for method plugins' own test suites.

    def test_conformance(salmu_check_method):
        salmu_check_method("my-method")

runs the same checks as ``salmu-harness check-method`` and fails with every failed check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest


@pytest.fixture
def salmu_check_method(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Assert that a method passes every conformance check (all installed plugins load)."""

    def check(name: str, parameters: Mapping[str, Any] | None = None, budget: float = 2.0) -> None:
        from harness.authoring.conformance import check_method
        from harness.plugins import PLUGINS_ENV_VAR

        monkeypatch.delenv(PLUGINS_ENV_VAR, raising=False)

        checks = check_method(name, parameters, budget=budget)
        failed = [f"{c.name}: {c.detail}" for c in checks if not c.passed]
        assert not failed, f"method {name!r} fails conformance:\n  " + "\n  ".join(failed)

    return check
