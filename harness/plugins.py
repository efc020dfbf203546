"""Discovering plugins through entry points and collecting what they register.

Built-in plugins (the SALMUBench suite and SALMU-mini) are registered through the same hooks as
third parties. A plugin that fails to import, to register, or that targets another plugin API is
recorded as broken instead of crashing the harness.

``SALMU_HARNESS_PLUGINS`` restricts which third-party distributions load: unset loads all, an
empty value loads none, ``dist1,dist2`` loads those (distribution or entry-point names).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, cast

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from harness import hookspecs
from harness.benchmarks.loader import BenchmarkLoader
from harness.errors import PluginError, UnknownNameError, close_matches
from harness.method import Method
from harness.metric import GROUPS, Metric, MetricSuite
from harness.protocol import (
    DEFAULT_PROTOCOL,
    EvaluationProtocol,
    load_protocol_file,
    protocol_from_json,
)
from harness.tracking.reporter import Reporter
from harness.versions import PLUGIN_API_VERSION, __version__

ENTRY_POINT_GROUP = "salmu_harness"
PLUGINS_ENV_VAR = "SALMU_HARNESS_PLUGINS"
BUILTIN_PLUGINS = (
    "harness.builtin.salmubench",
    "harness.builtin.mini",
    "harness.builtin.reporters",
)
#: hook -> the kind of thing its register() callback takes
HOOK_KINDS = (
    ("register_methods", "method"),
    ("register_metrics", "metric"),
    ("register_protocols", "protocol"),
    ("register_benchmarks", "benchmark"),
    ("register_suites", "suite"),
    ("register_reporters", "reporter"),
)
Kind = Literal["method", "metric", "protocol", "benchmark", "suite", "reporter"]
_TYPES: dict[str, type] = {
    "method": Method,
    "metric": Metric,
    "protocol": EvaluationProtocol,
    "benchmark": BenchmarkLoader,
    "suite": MetricSuite,
    "reporter": Reporter,
}


@dataclass
class PluginRecord:
    """One plugin: where it comes from, what it registered, and whether it works."""

    name: str
    distribution: str
    version: str
    builtin: bool = False
    status: Literal["ok", "broken"] = "ok"
    error: str | None = None
    methods: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    protocols: list[str] = field(default_factory=list)
    benchmarks: list[str] = field(default_factory=list)
    suites: list[str] = field(default_factory=list)
    reporters: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "builtin": self.builtin,
            "status": self.status,
            "error": self.error,
            "methods": sorted(self.methods),
            "metrics": sorted(self.metrics),
            "protocols": sorted(self.protocols),
            "benchmarks": sorted(self.benchmarks),
            "suites": sorted(self.suites),
            "reporters": sorted(self.reporters),
        }


@dataclass
class Registry:
    """Everything the loaded plugins provide, looked up by name."""

    plugins: dict[str, PluginRecord] = field(default_factory=dict)
    methods: dict[str, tuple[Method, PluginRecord]] = field(default_factory=dict)
    metrics: dict[str, tuple[Metric, PluginRecord]] = field(default_factory=dict)
    protocols: dict[str, tuple[EvaluationProtocol, PluginRecord]] = field(default_factory=dict)
    benchmarks: dict[str, tuple[BenchmarkLoader, PluginRecord]] = field(default_factory=dict)
    suites: dict[str, tuple[MetricSuite, PluginRecord]] = field(default_factory=dict)
    reporters: dict[str, tuple[Reporter, PluginRecord]] = field(default_factory=dict)
    conflicts: dict[str, list[PluginRecord]] = field(default_factory=dict)
    unmarked: dict[str, list[str]] = field(default_factory=dict)
    """Plugin -> hook functions it defines without ``@harness.hookimpl`` (for its error)."""

    def method(self, name: str) -> Method:
        """The method called ``name``; a clear error when it is unknown, broken or ambiguous."""
        return cast(Method, self._named("method", name))

    def reporter(self, name: str) -> Reporter:
        """The reporter called ``name``; a clear error when it is unknown, broken or ambiguous."""
        return cast(Reporter, self._named("reporter", name))

    def _named(self, kind: Kind, name: str) -> Any:
        self._raise_if_conflicted(kind, name)
        table = self._table(kind)
        if name in table:
            return table[name][0]
        self._raise_if_broken(kind, name)
        raise UnknownNameError(kind, name, table)

    def metric(self, key: str) -> Metric:
        """The metric with this key (or name, case-insensitive)."""
        self._raise_if_conflicted("metric", key)
        if key in self.metrics:
            return self.metrics[key][0]
        by_name = {m.name.lower(): m for m, _ in self.metrics.values()}
        if key.lower() in by_name:
            return by_name[key.lower()]
        self._raise_if_broken("metric", key)
        known = list(self.metrics) + [m.name for m, _ in self.metrics.values()]
        groups = {m.group for m, _ in self.metrics.values()}
        raise UnknownNameError("metric", key, known + sorted(groups))

    def protocol(self, spec: str | Mapping[str, Any] | None = None) -> EvaluationProtocol:
        """The protocol named ``spec`` (default: ``official``), read from a protocol file when
        ``spec`` is a path, or built from a protocol document when it is a mapping."""
        spec = DEFAULT_PROTOCOL if spec is None else spec
        if isinstance(spec, Mapping):
            return protocol_from_json(dict(spec), "the configured protocol")
        self._raise_if_conflicted("protocol", spec)
        if spec in self.protocols:
            return self.protocols[spec][0]
        if spec.endswith((".json", ".yaml", ".yml")) or os.sep in spec or Path(spec).is_file():
            return load_protocol_file(Path(spec))
        self._raise_if_broken("protocol", spec)
        raise UnknownNameError("protocol", spec, self.protocols)

    def all_metrics(self) -> list[Metric]:
        """Every installed metric, opt-in ones included, in key order."""
        return sorted((m for m, _ in self.metrics.values()), key=lambda m: _key_order(m.key))

    def select_metrics(self, keys: Iterable[str] | None = None) -> list[Metric]:
        """The metrics to evaluate: the given keys, names or group names (``robustness``), or
        every installed metric that is not opt-in."""
        every = self.all_metrics()
        if keys is None:
            return [m for m in every if not m.opt_in]
        selected: dict[str, Metric] = {}
        for key in keys:
            members = [m for m in every if m.group == key] if key in GROUPS else []
            for metric in members or [self.metric(key)]:
                selected[metric.key] = metric
        return list(selected.values())

    def benchmark(self, name: str) -> BenchmarkLoader:
        """The benchmark registered as ``name``; a did-you-mean error when there is none."""
        self._raise_if_conflicted("benchmark", name)
        if name in self.benchmarks:
            return self.benchmarks[name][0]
        self._raise_if_broken("benchmark", name)
        raise UnknownNameError("benchmark", name, self.benchmarks)

    def suite_for(self, metric_keys: Iterable[str]) -> MetricSuite | None:
        """The first registered suite that declares one of ``metric_keys``, if any."""
        keys = set(metric_keys)
        return next((s for s, _ in self.suites.values() if keys & set(s.keys)), None)

    def plugin_of(self, kind: Kind, name: str) -> PluginRecord:
        return self._table(kind)[name][1]

    def _table(self, kind: str) -> dict[str, Any]:
        tables: dict[str, dict[str, Any]] = {
            "method": self.methods,
            "metric": self.metrics,
            "protocol": self.protocols,
            "benchmark": self.benchmarks,
            "suite": self.suites,
            "reporter": self.reporters,
        }
        return tables[kind]

    def _raise_if_conflicted(self, kind: str, name: str) -> None:
        key = f"{kind}:{name}"
        if key in self.conflicts:
            owners = " and ".join(f"{p.distribution} {p.version}" for p in self.conflicts[key])
            raise PluginError(
                f"{kind} {name!r} is registered by two plugins: {owners}",
                f"uninstall one of them, or choose which loads with {PLUGINS_ENV_VAR}=dist1,...",
            )

    def _raise_if_broken(self, kind: str, name: str) -> None:
        wanted = canonicalize_name(name)
        for record in self.plugins.values():
            if record.status != "broken":
                continue
            names = {canonicalize_name(record.name), canonicalize_name(record.distribution)}
            if wanted in names or any(n.endswith(f"-{wanted}") for n in names):
                raise PluginError(
                    f"{kind} {name!r} comes from plugin {record.name!r} "
                    f"({record.distribution} {record.version}), which is broken: {record.error}",
                    "fix or reinstall that distribution; `salmu-harness plugins` lists all",
                )


def load_plugins(*, builtins: bool = True, third_party: bool = True) -> Registry:
    """Import the built-in and installed plugins and collect their registrations."""
    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    registry = Registry()
    if builtins:
        for module_name in BUILTIN_PLUGINS:
            record = PluginRecord(module_name, "salmu-harness", __version__, builtin=True)
            _import_and_register(manager, registry, record, module_name)
    if third_party:
        for entry_point in _selected_entry_points():
            dist = entry_point.dist
            distribution = dist.name if dist else "(unknown)"
            name = entry_point.name
            if name in registry.plugins:  # two distributions chose the same entry-point name
                name = f"{distribution}:{name}"
            record = PluginRecord(name, distribution, dist.version if dist else "(unknown)")
            _import_and_register(manager, registry, record, entry_point.value)
    for hook_name, kind in HOOK_KINDS:
        for impl in getattr(manager.hook, hook_name).get_hookimpls():
            record = registry.plugins[impl.plugin_name]
            if record.status == "broken":
                continue
            try:
                impl.function(register=_registrar(registry, record, kind))
            except Exception as exc:  # a plugin's bug must not take the harness down
                _mark_broken(registry, record, f"{hook_name} raised {_describe(exc)}")
    for record in list(registry.plugins.values()):
        _check_registered_something(registry, record)
    return registry


def _selected_entry_points() -> list[metadata.EntryPoint]:
    entry_points = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    allowed = os.environ.get(PLUGINS_ENV_VAR)
    if allowed is None:
        return entry_points
    wanted = {canonicalize_name(n) for n in allowed.split(",") if n.strip()}
    return [
        ep
        for ep in entry_points
        if canonicalize_name(ep.name) in wanted
        or (ep.dist is not None and canonicalize_name(ep.dist.name) in wanted)
    ]


def _import_and_register(
    manager: pluggy.PluginManager, registry: Registry, record: PluginRecord, target: str
) -> None:
    registry.plugins[record.name] = record
    module_name, _, attribute = target.partition(":")
    try:
        plugin = importlib.import_module(module_name)
        if attribute:
            for part in attribute.split("."):
                plugin = getattr(plugin, part)
        manager.register(plugin, name=record.name)
    except Exception as exc:  # ImportError, SyntaxError, a pluggy validation error, ...
        _mark_broken(registry, record, f"failed to load: {_describe(exc)}")
        return
    unknown = sorted(
        caller.name for caller in manager.get_hookcallers(plugin) or [] if not caller.has_spec()
    )
    if unknown:
        _mark_broken(registry, record, f"failed to load: {_unknown_hooks(unknown)}")
    else:
        registry.unmarked[record.name] = _unmarked_hooks(plugin, manager)


def _unknown_hooks(names: list[str]) -> str:
    known = [hook for hook, _ in HOOK_KINDS]
    described = []
    for name in names:
        close = close_matches(name, known)
        described.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return f"@harness.hookimpl marks {', '.join(described)}, which is not a hook"


def _unmarked_hooks(plugin: Any, manager: pluggy.PluginManager) -> list[str]:
    """Hook names the plugin defines without ``@harness.hookimpl`` (pluggy ignores them)."""
    marked = {caller.name for caller in manager.get_hookcallers(plugin) or []}
    return [
        hook
        for hook, _ in HOOK_KINDS
        if callable(getattr(plugin, hook, None)) and hook not in marked
    ]


def _check_registered_something(registry: Registry, record: PluginRecord) -> None:
    if record.status == "broken" or record.builtin:
        return
    if any(getattr(record, f"{kind}s") for _, kind in HOOK_KINDS):
        return
    unmarked = registry.unmarked.get(record.name, [])
    reason = (
        f"it registers nothing: {', '.join(unmarked)} lacks @harness.hookimpl"
        if unmarked
        else "it registers nothing: no hook of it is marked @harness.hookimpl or called "
        "register(...)"
    )
    _mark_broken(registry, record, reason)


def _registrar(registry: Registry, record: PluginRecord, kind: str) -> Any:
    def register(item: Any) -> None:
        expected = _TYPES[kind]
        if not isinstance(item, expected):
            raise PluginError(
                f"register() in register_{kind}s expects a harness.{expected.__name__}"
            )
        if isinstance(item, EvaluationProtocol):  # the protocol schema is its one rule
            protocol_from_json(item.to_json(), f"protocol {item.name!r}")
        else:
            _check_api(item, record)
        name: str = item.key if isinstance(item, Metric) else cast(Any, item).name
        table = registry._table(kind)
        conflict_key = f"{kind}:{name}"
        if conflict_key in registry.conflicts:
            registry.conflicts[conflict_key].append(record)
        elif name in table:
            registry.conflicts[conflict_key] = [table.pop(name)[1], record]
        else:
            table[name] = (item, record)
        getattr(record, f"{kind}s").append(name)

    return register


def _check_api(item: Any, record: PluginRecord) -> None:
    try:
        supported = SpecifierSet(item.plugin_api)
    except InvalidSpecifier as exc:
        raise PluginError(f"plugin_api {item.plugin_api!r} is not a version range") from exc
    if not supported.contains(Version(PLUGIN_API_VERSION)):
        raise PluginError(
            f"{record.distribution} {record.version} supports plugin API {item.plugin_api}, "
            f"but salmu-harness {__version__} implements plugin API {PLUGIN_API_VERSION}",
            "upgrade whichever of the two is older",
        )


def _mark_broken(registry: Registry, record: PluginRecord, error: str) -> None:
    record.status = "broken"
    record.error = error
    for _, kind in HOOK_KINDS:
        table = registry._table(kind)
        for name in getattr(record, f"{kind}s"):
            if table.get(name, (None, None))[1] is record:
                del table[name]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _key_order(key: str) -> tuple[Any, ...]:
    parts = key.split(".")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)
