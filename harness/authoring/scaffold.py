"""``new-plugin``: write a ready-to-install method, metric or benchmark plugin package."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

from harness.errors import ParameterError
from harness.versions import __version__

NAME = re.compile(r"^[a-z][a-z0-9-]*$")
#: kind -> (template of the module, template of the test, harness steps of the CI workflow)
KINDS = {
    "method": (
        "method_module.py.tmpl",
        "method_test.py.tmpl",
        (
            "salmu-harness check-method {name}",
            "salmu-harness run {name} --benchmark-option scale=test --budget 1",
            "salmu-harness validate salmu-results/*/result.json",
        ),
    ),
    "metric": ("metric_module.py.tmpl", "metric_test.py.tmpl", ("salmu-harness metrics",)),
    "benchmark": (
        "benchmark_module.py.tmpl",
        "benchmark_test.py.tmpl",
        ("salmu-harness benchmarks",),
    ),
}
#: kind -> the README's line on using the package
USAGE = {
    "method": "Run it: `salmu-harness run {name}`; check it: `salmu-harness check-method {name}`",
    "metric": "Use it: `salmu-harness evaluate MODEL --metrics {name}`",
    "benchmark": "Use it: `salmu-harness evaluate MODEL --benchmark {name} "
    "--benchmark-option folder=PATH`",
}


def _template(name: str) -> Template:
    return Template(
        resources.files("harness.authoring.templates").joinpath(name).read_text("utf-8")
    )


def new_plugin(name: str, kind: str, parent: Path) -> Path:
    """Write ``salmu-{kind}-{name}/`` under ``parent``; return its path."""
    if not NAME.match(name):
        raise ParameterError(
            f"plugin name {name!r} is invalid",
            "use lower-case letters, digits and '-', starting with a letter",
        )
    if kind not in KINDS:
        raise ParameterError(f"kind {kind!r} is unknown", f"use one of: {', '.join(KINDS)}")
    dist = f"salmu-{kind}-{name}"
    module = dist.replace("-", "_")
    folder = Path(parent) / dist
    if folder.exists():
        raise ParameterError(f"{folder} already exists", "choose another name or folder")
    module_template, test_template, steps = KINDS[kind]
    usage = USAGE[kind].format(name=name)
    values = {
        "name": name,
        "dist": dist,
        "module": module,
        "kind": kind,
        "usage": usage,
        "harness_version": __version__,
        "folder_variable": f"SALMU_BENCHMARK_{name.upper().replace('-', '_')}",
        "harness_steps": "".join(f"      - run: {s.format(name=name)}\n" for s in steps),
    }
    files = {
        "pyproject.toml": "pyproject.toml.tmpl",
        "README.md": "README.md.tmpl",
        f"{module}/__init__.py": module_template,
        f"tests/test_{module}.py": test_template,
        ".github/workflows/ci.yml": "ci.yml.tmpl",
        ".gitignore": "gitignore.tmpl",
    }
    for relative, template in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_template(template).substitute(values), encoding="utf-8")
    return folder
