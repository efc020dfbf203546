"""Every public name a plugin author touches is documented, and the API reference renders it.

The API reference (``docs/api/``) is generated from docstrings by mkdocstrings; a field without
a docstring would appear there with its name only. These checks read the source with ``ast`` so
that they need no documentation tooling.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import harness
from harness import training

ROOT = Path(__file__).resolve().parents[1]
API_DOCS = ROOT / "docs" / "api"

#: the classes of the plugin API, each with its fields and members documented
PUBLIC_CLASSES = [
    "harness.method.Method",
    "harness.metric.Metric",
    "harness.metric.MetricOutcome",
    "harness.metric.MetricSuite",
    "harness.metric.Withheld",
    "harness.metric.SkipMetric",
    "harness.context.RunContext",
    "harness.context.SplitView",
    "harness.context.Batch",
    "harness.run.budget.Budget",
    "harness.evaluation.context.EvaluationContext",
    "harness.evaluation.embeddings.SplitEmbeddings",
    "harness.benchmarks.base.BenchmarkMetadata",
    "harness.benchmarks.base.IdentityRecord",
    "harness.benchmarks.base.CaptionRecord",
    "harness.benchmarks.base.Benchmark",
    "harness.benchmarks.base.Split",
    "harness.benchmarks.loader.BenchmarkLoader",
    "harness.protocol.EvaluationProtocol",
    "harness.run.settings.RunOptions",
    "harness.run.sections.RunOutcome",
    "harness.tracking.reporter.Reporter",
    "harness.tracking.reporter.RunStart",
    "harness.tracking.reporter.ReporterSession",
]

#: fields plugin authors look for in the reference, by class
NAMED_FIELDS = {
    "harness.evaluation.embeddings.SplitEmbeddings": {
        "split",
        "image",
        "text",
        "texts",
        "file_names",
        "identity_ids",
    },
    "harness.benchmarks.base.BenchmarkMetadata": {
        "identities",
        "captions",
        "generic_captions",
        "fragile_set_ids",
    },
    "harness.metric.Metric": {"plugin_api"},
    "harness.run.settings.RunOptions": {
        "benchmark",
        "metrics",
        "protocol",
        "device",
        "precision",
        "seed",
        "budget",
        "output_dir",
        "batch_size",
        "num_workers",
        "image_cache",
        "evaluation",
        "rules",
        "report_to",
    },
}


def _class_node(dotted: str) -> tuple[type, ast.ClassDef]:
    module_name, _, class_name = dotted.rpartition(".")
    module = __import__(module_name, fromlist=[class_name])
    tree = ast.parse(Path(inspect.getfile(module)).read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name)
    return getattr(module, class_name), node


def _documented_attributes(body: list[ast.stmt], on_self: bool = False) -> dict[str, bool]:
    """Attribute name -> whether a string literal follows its assignment."""
    found: dict[str, bool] = {}
    for index, statement in enumerate(body):
        name = None
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            name = statement.target.id
        elif on_self and isinstance(statement, ast.Assign):
            target = statement.targets[0]
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
            ):
                name = target.attr
        if name is None or name.startswith("_"):
            continue
        following = body[index + 1] if index + 1 < len(body) else None
        found[name] = (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        )
    return found


def _undocumented(dotted: str) -> list[str]:
    _, node = _class_node(dotted)
    missing = [] if ast.get_docstring(node) else ["(class docstring)"]
    fields = _documented_attributes(node.body)
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            fields.update(_documented_attributes(item.body, on_self=True))
        elif (
            isinstance(item, ast.FunctionDef)
            and not item.name.startswith("_")
            and not ast.get_docstring(item)
        ):
            missing.append(f"{item.name}()")
    missing += [name for name, documented in fields.items() if not documented]
    return missing


@pytest.mark.parametrize("dotted", PUBLIC_CLASSES)
def test_every_field_and_member_of_a_public_class_has_a_docstring(dotted: str) -> None:
    assert _undocumented(dotted) == [], f"{dotted}: add docstrings for these"


@pytest.mark.parametrize("dotted", sorted(NAMED_FIELDS))
def test_the_fields_users_look_for_are_documented_fields(dotted: str) -> None:
    _, node = _class_node(dotted)
    fields = _documented_attributes(node.body)
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            fields.update(_documented_attributes(item.body, on_self=True))
    assert NAMED_FIELDS[dotted] <= {name for name, ok in fields.items() if ok}


def test_every_exported_name_has_a_docstring() -> None:
    missing = []
    for name in harness.__all__:
        value = getattr(harness, name)
        if (inspect.isclass(value) or inspect.isfunction(value)) and not inspect.getdoc(value):
            missing.append(name)
    public_helpers = [
        n
        for n, v in vars(training).items()
        if not n.startswith("_") and inspect.isfunction(v) and v.__module__ == training.__name__
    ]
    missing += [f"training.{n}" for n in public_helpers if not inspect.getdoc(getattr(training, n))]
    assert missing == []


def test_the_api_reference_renders_every_public_class() -> None:
    directives = set()
    for page in API_DOCS.glob("*.md"):
        directives |= set(re.findall(r"^::: ([\w.]+)$", page.read_text("utf-8"), flags=re.M))
    assert set(PUBLIC_CLASSES) - directives == set()
    exported = {
        f"{value.__module__}.{value.__qualname__}"
        for value in (getattr(harness, name) for name in harness.__all__)
        if inspect.isclass(value) and not issubclass(value, harness.HarnessError)
    }
    assert exported - directives == set()  # every exported class is in the reference
    assert {"harness.training", "harness.hookspecs", "harness.results.document"} <= directives
    nav = (ROOT / "mkdocs.yml").read_text("utf-8")
    for page in API_DOCS.glob("*.md"):
        assert f"api/{page.name}" in nav, f"{page.name} is not in mkdocs.yml's nav"


def test_the_result_document_sections_have_docstrings() -> None:
    from harness.results import document

    undocumented = [
        name
        for name, value in vars(document).items()
        if inspect.isfunction(value)
        and value.__module__ == document.__name__
        and not name.startswith("_")
        and not inspect.getdoc(value)
    ]
    assert undocumented == []
