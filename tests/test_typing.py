"""The plugin API as a type checker sees it: every public name typed, hooks' callbacks typed,
declarations keyword-only, ``py.typed`` shipped."""

from __future__ import annotations

import ast
import dataclasses
import re
import textwrap
from pathlib import Path

import pytest

import harness

PACKAGE = Path(harness.__file__).parent

#: third-party packages the checker does not follow (their own types do not matter here and
#: analysing torch would take minutes)
SKIPPED = "torch.*,torchvision.*,open_clip.*,datasets.*,numpy.*,pandas.*,sklearn.*,scipy.*,\
matplotlib.*,pyarrow.*,huggingface_hub.*,PIL.*,filelock.*,tqdm.*,jsonschema.*,click.*"

PLUGIN = """
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

import harness
from harness import training


def unlearn(ctx: harness.RunContext, params: dict[str, Any]) -> torch.nn.Module:
    return ctx.model


@harness.hookimpl
def register_methods(register: Callable[[harness.Method], None]) -> None:
    register(harness.Method(name="typed", description="d", version="1", unlearn=unlearn))


{reveals}
"""


def test_every_lazy_name_is_visible_to_type_checkers() -> None:
    """The names served on first use at run time are imported under TYPE_CHECKING too."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    checked = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
    )
    seen = {
        alias.asname or alias.name
        for node in checked.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    lazy = harness._LAZY  # type: ignore[attr-defined]
    assert seen == set(lazy)
    for name in lazy:  # and they resolve at run time to the same objects
        assert getattr(harness, name) is not None


def test_py_typed_ships_with_the_package() -> None:
    assert (PACKAGE / "py.typed").is_file()
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text()
    assert re.search(r'^"harness" = \["py.typed"\]', pyproject, re.MULTILINE)


@pytest.mark.parametrize(
    "declaration",
    [
        harness.Method,
        harness.Metric,
        harness.MetricSuite,
        harness.Reporter,
        harness.BenchmarkLoader,
        harness.EvaluationProtocol,
    ],
)
def test_declarations_take_keywords_only(declaration: type) -> None:
    assert all(f.kw_only for f in dataclasses.fields(declaration))
    with pytest.raises(TypeError, match="positional"):
        declaration("x")


def test_a_plugin_sees_the_real_types_of_every_public_name(tmp_path: Path) -> None:
    """mypy on a small third-party plugin: no public name of ``harness`` is ``Any``."""
    api = pytest.importorskip("mypy.api")
    public = [name for name in harness.__all__ if not name.startswith("__")]
    reveals = "\n".join(f"reveal_type(harness.{name})" for name in public)
    plugin = tmp_path / "typed_plugin.py"
    plugin.write_text(PLUGIN.format(reveals=reveals))
    config = tmp_path / "mypy.ini"
    config.write_text(
        textwrap.dedent(
            f"""\
            [mypy]
            python_version = 3.10
            ignore_missing_imports = True
            mypy_path = {PACKAGE.parent}
            cache_dir = {tmp_path / "cache"}
            [mypy-{SKIPPED}]
            follow_imports = skip
            """
        )
    )
    stdout, stderr, status = api.run(["--config-file", str(config), str(plugin)])
    assert status == 0, stdout + stderr
    revealed = re.findall(r'Revealed type is "(.*)"', stdout)
    assert len(revealed) == len(public), stdout
    leaks = [name for name, seen in zip(public, revealed, strict=True) if seen == "Any"]
    assert not leaks, leaks
    assert 'Revealed type is "def (*, name: str, description: str' in stdout  # Method: keywords


def test_each_hook_types_its_register_callback() -> None:
    source = (PACKAGE / "hookspecs.py").read_text()
    hooks = re.findall(r"def (register_\w+)\(register: Callable\[\[(\w+)\], None\]\)", source)
    assert len(hooks) == source.count("@hookspec\n") == 6
