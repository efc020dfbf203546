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


MODULE_NAMES = {name for name, _ in modules()}


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
                targets = {f"{child.module}.{alias.name}" for alias in child.names}
                found.update(targets)
                if not targets <= MODULE_NAMES:  # a name of the module, not only submodules
                    found.add(child.module)
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


def _cycles(names: dict[str, Path], lazy: bool = True, type_only: bool = True) -> list[list[str]]:
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


def test_no_import_cycles_counting_function_local_and_type_only_imports() -> None:
    assert _cycles(dict(modules())) == []


def test_a_cycle_through_a_function_local_import_is_found(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import b\n")
    (tmp_path / "b.py").write_text("def later():\n    from c import thing\n")
    (tmp_path / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\n"
    )
    names = {stem: tmp_path / f"{stem}.py" for stem in "abc"}
    assert _cycles(names) == [["a", "b", "c", "a"]]
    assert _cycles(names, lazy=False) == []  # what the guard once saw


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


def _architecture_rows() -> dict[str, str]:
    """docs/architecture.md's module table: folder (``""`` for the top level) -> its text."""
    rows = {}
    for line in (ROOT / "docs" / "architecture.md").read_text().splitlines():
        found = re.match(r"^\| (top level|`([a-z_/]+)/`) \| (.*) \|$", line)
        if found:
            rows[found.group(2) or ""] = found.group(3)
    return rows


def test_architecture_doc_names_every_module() -> None:
    rows = _architecture_rows()
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__init__.py":
            continue
        folder = path.parent.relative_to(PACKAGE).as_posix().removeprefix(".")
        if f"`{path.name}`" not in rows.get(folder, ""):
            missing.append(path.relative_to(PACKAGE).as_posix())
    assert missing == []


def test_every_third_party_import_is_a_declared_dependency() -> None:
    import sys
    from importlib.metadata import packages_distributions

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    declared = {canonicalize_name(Requirement(r).name) for r in requirements}
    distributions = packages_distributions()
    undeclared = set()
    for _, path in modules():
        for imported in imports(path):
            top = imported.split(".")[0]
            if top in sys.stdlib_module_names or top in ("harness", "__future__"):
                continue
            owners = {canonicalize_name(d) for d in distributions.get(top, [top])}
            if not owners & declared:
                undeclared.add(top)
    assert undeclared == set()
