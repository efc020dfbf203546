"""Plugin discovery: entry points, broken plugins, conflicts, API ranges, the env var."""

from __future__ import annotations

import sys
import types
from importlib import metadata

import pytest

import harness
from harness.errors import PluginError, UnknownNameError
from harness.plugins import PLUGINS_ENV_VAR, load_plugins


class FakeDist:
    def __init__(self, name: str, version: str = "1.0") -> None:
        self.name, self.version = name, version


def fake_entry_point(name: str, module: str, dist: str) -> metadata.EntryPoint:
    entry_point = metadata.EntryPoint(name, module, "salmu_harness")
    object.__setattr__(entry_point, "dist", FakeDist(dist))  # EntryPoint is immutable
    return entry_point


def method_module(name: str, method_name: str, plugin_api: str = ">=1,<2") -> str:
    module = types.ModuleType(name)

    @harness.hookimpl
    def register_methods(register):
        register(
            harness.Method(
                name=method_name,
                description="A test method.",
                version="1.0",
                unlearn=lambda ctx, params: ctx.model,
                plugin_api=plugin_api,
            )
        )

    module.register_methods = register_methods
    sys.modules[name] = module
    return name


@pytest.fixture
def entry_points(monkeypatch):
    installed: list[metadata.EntryPoint] = []
    monkeypatch.setattr(metadata, "entry_points", lambda group: list(installed))
    monkeypatch.delenv(PLUGINS_ENV_VAR, raising=False)
    return installed


def test_builtin_metrics_register_through_the_hooks() -> None:
    registry = load_plugins(third_party=False)
    assert sorted(registry.metrics) == [
        "1.1",
        "1.2",
        "1.3",
        "1.4",
        "1.5",
        "2.1",
        "2.2",
        "2.3",
        "2.4",
        "2.5",
        "3.1",
        "3.2",
        "3.3",
        "3.4",
    ]
    record = registry.plugin_of("metric", "1.1")
    assert record.builtin and record.distribution == "salmu-harness"


def test_opt_in_metrics_run_only_when_named() -> None:
    registry = load_plugins(third_party=False)
    default = [m.key for m in registry.select_metrics(None)]
    assert default == [f"1.{i}" for i in range(1, 6)] + [f"2.{i}" for i in range(1, 6)]
    robustness = registry.select_metrics(["robustness"])
    assert [m.key for m in robustness] == ["3.1", "3.2", "3.3", "3.4"]
    assert all(m.opt_in and m.group == "robustness" and m.cost for m in robustness)
    # groups, keys and names mix; each metric appears once, in the order first named
    mixed = registry.select_metrics(["3.3", "efficacy", "RetFail", "Relearn"])
    assert [m.key for m in mixed] == ["3.3", "1.1", "1.2", "1.3", "1.4", "1.5", "3.1"]
    with pytest.raises(UnknownNameError) as error:
        registry.select_metrics(["robustnes"])
    assert "did you mean 'robustness'?" in str(error.value)


def test_third_party_method_is_discovered(entry_points) -> None:
    entry_points.append(fake_entry_point("foo", method_module("fake_foo", "foo"), "salmu-foo"))
    registry = load_plugins()
    assert registry.method("foo").name == "foo"
    assert registry.plugin_of("method", "foo").distribution == "salmu-foo"


def test_import_error_marks_the_plugin_broken_and_running_it_reports_why(entry_points) -> None:
    entry_points.append(fake_entry_point("bar", "module_that_does_not_exist", "salmu-method-bar"))
    registry = load_plugins()
    record = registry.plugins["bar"]
    assert record.status == "broken" and "ModuleNotFoundError" in record.error
    with pytest.raises(PluginError, match="which is broken: failed to load: ModuleNotFoundError"):
        registry.method("bar")
    assert registry.metric("1.1").name == "RetFail"  # everything else still works


def test_a_hook_that_raises_marks_only_its_plugin_broken(entry_points) -> None:
    module = types.ModuleType("fake_raising")
    module.register_methods = harness.hookimpl(lambda register: 1 / 0)
    sys.modules["fake_raising"] = module
    entry_points.append(fake_entry_point("raising", "fake_raising", "salmu-raising"))
    entry_points.append(fake_entry_point("foo", method_module("fake_foo2", "foo"), "salmu-foo"))
    registry = load_plugins()
    assert "ZeroDivisionError" in registry.plugins["raising"].error
    assert "foo" in registry.methods


def test_duplicate_names_name_both_distributions(entry_points) -> None:
    entry_points.append(fake_entry_point("a", method_module("fake_a", "same"), "salmu-a"))
    entry_points.append(fake_entry_point("b", method_module("fake_b", "same"), "salmu-b"))
    expected = r"registered by two plugins: salmu-a 1\.0 and salmu-b 1\.0"
    with pytest.raises(PluginError, match=expected):
        load_plugins().method("same")


def test_incompatible_api_range_names_both_versions(entry_points) -> None:
    entry_points.append(
        fake_entry_point("new", method_module("fake_new", "new", ">=2,<3"), "salmu-new")
    )
    record = load_plugins().plugins["new"]
    assert record.status == "broken"
    assert "supports plugin API >=2,<3" in record.error
    assert f"implements plugin API {harness.PLUGIN_API_VERSION}" in record.error


def test_env_var_restricts_third_party_plugins(entry_points, monkeypatch) -> None:
    entry_points.append(fake_entry_point("foo", method_module("fake_foo3", "foo"), "salmu-foo"))
    entry_points.append(fake_entry_point("baz", method_module("fake_baz", "baz"), "salmu-baz"))
    monkeypatch.setenv(PLUGINS_ENV_VAR, "salmu-baz")
    assert sorted(load_plugins().methods) == ["baz"]
    monkeypatch.setenv(PLUGINS_ENV_VAR, "")
    registry = load_plugins()
    assert registry.methods == {} and "1.1" in registry.metrics  # built-ins always load


def test_unknown_names_suggest_close_matches() -> None:
    registry = load_plugins(third_party=False)
    with pytest.raises(UnknownNameError) as error:
        registry.metric("RetFial")
    assert "did you mean 'RetFail'?" in str(error.value)
    with pytest.raises(UnknownNameError, match="installed methods: \\(none installed\\)"):
        registry.method("finetune")


def test_a_misspelled_hook_marks_the_plugin_broken_with_the_right_name(entry_points) -> None:
    module = types.ModuleType("fake_misspelled")

    @harness.hookimpl
    def register_method(register):  # the hook is register_methods
        raise AssertionError("never called")

    module.register_method = register_method
    sys.modules["fake_misspelled"] = module
    entry_points.append(fake_entry_point("typo", "fake_misspelled", "salmu-typo"))
    record = load_plugins().plugins["typo"]
    assert record.status == "broken"
    assert "register_method (did you mean register_methods?), which is not a hook" in record.error


def test_a_hook_without_the_marker_registers_nothing_and_says_so(entry_points) -> None:
    module = types.ModuleType("fake_unmarked")
    module.register_methods = lambda register: None  # no @harness.hookimpl
    sys.modules["fake_unmarked"] = module
    entry_points.append(fake_entry_point("unmarked", "fake_unmarked", "salmu-unmarked"))
    entry_points.append(fake_entry_point("foo", method_module("fake_foo3", "foo"), "salmu-foo"))
    registry = load_plugins()
    record = registry.plugins["unmarked"]
    assert record.status == "broken"
    assert record.error == "it registers nothing: register_methods lacks @harness.hookimpl"
    assert registry.plugins["foo"].status == "ok"
