"""The measuring and maintainer scripts stay runnable: each answers ``--help`` with its usage.

They run outside the test suite (minutes to hours, some on a GPU); this keeps an import or an
argument parser from breaking unnoticed. ``mypy`` checks them too (``[tool.mypy] files``).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(
    p
    for folder in ("measurements", "scripts")
    for p in (ROOT / folder).glob("*.py")
    if "__main__" in p.read_text()
)


def test_the_scripts_are_found() -> None:
    names = {p.name for p in SCRIPTS}
    assert {"gpu_smoke.py", "train_data_path.py", "reproduction_docs.py"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_each_script_answers_help(script: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "argv", [str(script), "--help"])
    monkeypatch.setattr(sys, "path", list(sys.path))  # scripts add their folder
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(str(script), run_name="__main__")
    assert exited.value.code == 0
    assert "usage:" in capsys.readouterr().out
