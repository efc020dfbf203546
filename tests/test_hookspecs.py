"""The hook reference in docs must document every hook, and every hook needs a docstring."""

from __future__ import annotations

import inspect
from pathlib import Path

from harness import hookspecs

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def hooks() -> list[str]:
    return [
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "salmu_harness_spec")
    ]


def test_every_hook_has_a_one_line_docstring() -> None:
    assert hooks() == [
        "register_benchmarks",
        "register_methods",
        "register_metrics",
        "register_protocols",
        "register_reporters",
        "register_suites",
    ]
    for name in hooks():
        doc = getattr(hookspecs, name).__doc__
        assert doc and len(doc.strip().splitlines()) == 1, name


def test_every_hook_is_documented() -> None:
    text = DOCS.read_text()
    for name in hooks():
        assert f"### `{name}(register)`" in text, f"docs/plugins.md does not document {name}"
