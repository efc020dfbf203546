"""Guards of the package's shape: layers, public API of plugins, cycles, sizes, packaging."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import tomllib

import harness

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "harness"
#: the core: everything but the command line and the built-in plugins
CORE_EXCLUDED = ("cli", "builtin")
FIRST_PARTY_PLUGINS = ("salmu_baselines", "salmu_literature")
#: what plugin distributions may import of the harness
PUBLIC_MODULES = {"harness", "harness.training", "harness.context"}
SUITE_KEYS = {f"{a}.{b}" for a, b in [(1, 1), (1, 2), (1, 3), (1, 4), (1, 5)]} | {
    f"2.{b}" for b in range(1, 6)
}
MAX_LINES = 400
MAX_TOP_LEVEL = 12


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def is_core(name: str) -> bool:
    parts = name.split(".")
    return len(parts) < 2 or parts[1] not in CORE_EXCLUDED


def imports(path: Path, *, lazy: bool = True, type_only: bool = True) -> set[str]:
    """The modules ``path`` imports (absolute names); ``lazy``: inside functions too;
    ``type_only``: inside ``if TYPE_CHECKING:`` too."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(node: ast.AST, in_function: bool, in_type_check: bool) -> None:
        for child in ast.iter_child_nodes(node):
            function = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            checking = in_type_check or (
                isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
            )
            wanted = (lazy or not function) and (type_only or not checking)
            if isinstance(child, ast.Import) and wanted:
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and wanted:
                found.add(child.module)
                found.update(f"{child.module}.{alias.name}" for alias in child.names)
            visit(child, function, checking)

    visit(tree, False, False)
    return found


def test_the_core_never_imports_the_cli_the_builtins_or_first_party_plugins() -> None:
    offenders = []
    for name, path in modules():
        if not is_core(name):
            continue
        for imported in imports(path):
            if (
                imported.startswith(("harness.cli", "harness.builtin"))
                or imported.split(".")[0] in FIRST_PARTY_PLUGINS
            ):
                offenders.append(f"{name} imports {imported}")
    assert offenders == []


def test_first_party_plugins_import_only_the_public_api() -> None:
    offenders = []
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        if "tests" in path.parts:
            continue
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("harness"):
                if node.module not in PUBLIC_MODULES:
                    offenders.append(f"{where} imports {node.module}")
                elif node.module == "harness":
                    offenders += [
                        f"{where} imports harness.{a.name}"
                        for a in node.names
                        if a.name not in harness.__all__
                    ]
            elif isinstance(node, ast.Import):
                offenders += [
                    f"{where} imports {a.name}"
                    for a in node.names
                    if a.name.startswith("harness") and a.name not in PUBLIC_MODULES
                ]
    assert offenders == []


def _cycles(lazy: bool, type_only: bool) -> list[list[str]]:
    names = dict(modules())
    graph = {
        name: {
            target
            for target in imports(path, lazy=lazy, type_only=type_only)
            if target in names and target != name
        }
        for name, path in names.items()
    }
    cycles, state = [], {}

    def walk(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                walk(target, [*stack, target])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    return cycles


def test_no_import_cycles_at_import_time_including_type_only_imports() -> None:
    assert _cycles(lazy=False, type_only=True) == []


def test_no_module_is_over_400_lines() -> None:
    long = {
        name: n for name, path in modules() if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_top_level_holds_at_most_12_modules() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    assert len(top) <= MAX_TOP_LEVEL, top


def test_every_package_is_packaged() -> None:
    declared = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    on_disk = {name for name, path in modules() if path.name == "__init__.py"} | {"harness.schemas"}
    assert declared == on_disk


def test_the_core_names_no_suite_metric_key() -> None:
    """Keys of the SALMUBench suite live with the suite: no string constant in the core is one."""
    offenders = []
    for name, path in modules():
        if not is_core(name):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in SUITE_KEYS:
                offenders.append(f"{name}: {node.value!r}")
    assert offenders == []


def test_every_module_says_what_it_is_for() -> None:
    missing = [
        name
        for name, path in modules()
        if path.read_text().strip() and not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert missing == []


def test_architecture_doc_names_every_package() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    packages = {name for name, path in modules() if path.name == "__init__.py" and "." in name}
    missing = [
        p
        for p in packages
        if not re.search(rf"`{p.removeprefix('harness.').replace('.', '/')}/`", text)
    ]
    assert missing == []
