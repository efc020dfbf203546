"""Checks of what lives on this machine: the GenKnow source, the installed plugins and the
caches (where, how big, writable)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from harness.doctor.record import Check

if TYPE_CHECKING:
    from harness.plugins import PluginRecord, Registry

#: ImageNet-1k validation, as SALMUBench's GenKnow reads it
IMAGENET_CLASSES, IMAGENET_IMAGES = 1000, 50_000


def genknow_check(source: str | None) -> Check:
    """The GenKnow source (ImageNet-1k validation), read as ``genknow check`` reads it."""
    if not source:
        return Check(
            "genknow",
            "GenKnow source",
            "warning",
            "no ImageNet-1k validation set given: GenKnow (2.1) is skipped, as the official "
            "evaluator's -1",
            "give --benchmark-option imagenet=SOURCE (see `salmu-harness genknow check --help`)",
        )
    if str(source).startswith("hf:"):  # reading it here would download it
        return Check(
            "genknow",
            "GenKnow source",
            "warning",
            f"{source} is read from the hub when the run starts (not checked here)",
            f"check it once, which downloads it: salmu-harness genknow check {source}",
        )
    from harness.benchmarks.genknow import read_genknow
    from harness.errors import HarnessError

    try:  # as `genknow check` reads it (a parquet or webdataset folder is converted once)
        found = read_genknow(source).describe()
    except HarnessError as exc:
        fix = exc.hint or "see `salmu-harness genknow check --help` for the forms a source takes"
        return Check("genknow", "GenKnow source", "problem", exc.message, fix)
    detail = f"{found['source']} at {found['location']}: {found['rows']:,} images, " + (
        f"{found['classes']:,} classes"
    )
    if (found["classes"], found["rows"]) != (IMAGENET_CLASSES, IMAGENET_IMAGES):
        return Check(
            "genknow",
            "GenKnow source",
            "warning",
            detail + f" (ImageNet-1k val has {IMAGENET_IMAGES:,} in {IMAGENET_CLASSES:,})",
            "GenKnow on another set cannot sit next to the paper's: give the full validation set",
        )
    return Check("genknow", "GenKnow source", "ok", detail)


def plugin_checks(registry: Registry | None = None) -> list[Check]:
    """Every installed plugin loads (with the plugin API ranges it declares), or why not."""
    from harness.plugins import load_plugins
    from harness.versions import PLUGIN_API_VERSION

    registry = registry or load_plugins()
    checks = []
    for record in sorted(registry.plugins.values(), key=lambda r: (not r.builtin, r.name)):
        name = f"{record.name} ({record.distribution} {record.version})"
        if record.status != "ok":
            checks.append(
                Check(
                    "plugins",
                    name,
                    "problem",
                    f"broken: {record.error}",
                    f"upgrade or uninstall it (pip uninstall {record.distribution}), or leave it "
                    "out: SALMU_HARNESS_PLUGINS=NAME,... loads only those named",
                )
            )
            continue
        provides = [
            f"{len(names)} {kind if len(names) > 1 else kind[:-1]}"
            for kind, names in _provided(record).items()
            if names
        ]
        ranges = sorted(_api_ranges(registry, record)) or ["-"]
        checks.append(
            Check(
                "plugins",
                name,
                "ok",
                f"{', '.join(provides) or 'nothing'}; plugin API {', '.join(ranges)} "
                f"(this harness: {PLUGIN_API_VERSION})",
            )
        )
    for key, owners in registry.conflicts.items():
        names = " and ".join(f"{o.distribution} {o.version}" for o in owners)
        checks.append(
            Check(
                "plugins",
                f"conflict on {key}",
                "problem",
                f"{key} is registered by {names}",
                "uninstall one of them",
            )
        )
    return checks


def cache_check(name: str, folder: Path) -> Check:
    """A cache folder: where it is, how much it holds, and whether this user can write to it."""
    from harness.evaluation.image_cache import folder_bytes

    folder = Path(folder).expanduser()
    try:
        size = folder_bytes(folder)
    except OSError as exc:
        return Check(
            "caches",
            name,
            "problem",
            f"{folder} cannot be read: {exc.strerror or exc}",
            "make it readable, or point it elsewhere (SALMU_HARNESS_CACHE, HF_HOME)",
        )
    detail = f"{folder} ({size / 2**30:,.2f} GiB)"
    if not _writable(folder):
        return Check(
            "caches",
            name,
            "problem",
            detail + ": not writable",
            "make it writable, or point it elsewhere (SALMU_HARNESS_CACHE, HF_HOME)",
        )
    return Check("caches", name, "ok", detail)


def _writable(folder: Path) -> bool:
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        return False
    if probe != folder:
        return True  # creatable: the first run makes it
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            return True
    except OSError:
        return False


def _provided(record: PluginRecord) -> dict[str, list[str]]:
    return {
        "methods": record.methods,
        "metrics": record.metrics,
        "benchmarks": record.benchmarks,
        "protocols": record.protocols,
        "suites": record.suites,
        "reporters": record.reporters,
    }


def _api_ranges(registry: Registry, record: PluginRecord) -> set[str]:
    tables = (
        registry.methods,
        registry.metrics,
        registry.benchmarks,
        registry.reporters,
        registry.suites,
    )
    return {
        getattr(item, "plugin_api", None) or "-"
        for table in tables
        for item, owner in table.values()
        if owner is record
    }
