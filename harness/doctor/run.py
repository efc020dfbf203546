"""``run_doctor``: every check, in the order the table lists them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.doctor.disk import Need, disk_checks, image_cache_needs, train_side
from harness.doctor.hub_access import (
    HubFindings,
    cached_snapshot,
    hub_checks,
    remote_parquet_bytes,
)
from harness.doctor.local_setup import cache_check, genknow_check, plugin_checks
from harness.doctor.record import Check, DoctorReport
from harness.doctor.software import (
    cpu_check,
    gpu_checks,
    library_checks,
    python_check,
    torch_build_check,
)
from harness.errors import BenchmarkError, HarnessError

HUB_BENCHMARK = "salmubench"


def run_doctor(
    benchmark: str = HUB_BENCHMARK, options: Mapping[str, Any] | None = None
) -> DoctorReport:
    """Check this machine for a run on ``benchmark`` with these benchmark ``options``."""
    from harness.plugins import load_plugins

    clock = time.perf_counter()
    options = dict(options or {})
    registry = load_plugins()
    registry.benchmark(benchmark).check_options(options)
    report = DoctorReport(benchmark)
    report.checks += [python_check(), *library_checks(), torch_build_check(), *gpu_checks()]
    report.checks.append(cpu_check())
    if benchmark == HUB_BENCHMARK:
        findings = hub_checks(options)
        report.checks += findings.checks
        try:
            report.checks += disk_checks(salmubench_needs(options, findings))
        except HarnessError as exc:  # a dataset here whose files cannot be read
            report.checks.append(
                Check("disk", "space", "problem", exc.message, exc.hint or "download it again")
            )
        report.checks.append(genknow_check(options.get("imagenet")))
    else:
        report.checks.append(
            Check("hub", "hub access", "ok", f"{benchmark} is not read from the Hugging Face hub")
        )
    report.checks += plugin_checks(registry)
    report.checks += [cache_check(name, folder) for name, folder in cache_folders().items()]
    report.seconds = time.perf_counter() - clock
    return report


def cache_folders() -> dict[str, Path]:
    """Where the harness, the hub and ``datasets`` keep their caches (none is created)."""
    from huggingface_hub import constants

    from harness.storage import cache_root

    return {
        "harness cache": cache_root(),
        "hub cache": Path(constants.HF_HUB_CACHE),
        "datasets cache": _datasets_cache(),
    }


def salmubench_needs(options: Mapping[str, Any], hub: HubFindings) -> list[Need]:
    """What a first SALMUBench run writes (caches a previous run filled are counted again,
    as space already taken), from the dataset's row counts (counted when the
    dataset is here, else the dataset card's) and ViT-B-16's input side."""
    from harness.benchmarks.salmubench import ARCHITECTURE, DATASET, PUBLISHED_ROWS

    folders = cache_folders()
    snapshot = cached_snapshot(options)
    parquet: int | None
    if snapshot is not None:
        rows, parquet = _local_rows(snapshot), _local_parquet_bytes(snapshot)
        rows_how, parquet_how = f"rows counted in {snapshot}", "the parquet files here"
    else:
        rows = dict(PUBLISHED_ROWS)
        revision = str(options.get("dataset_revision") or DATASET.revision)
        parquet = None if hub.offline else remote_parquet_bytes(revision, hub.token)
        rows_how, parquet_how = "rows from the dataset card", "the hub's file list"
    needs = []
    for option, weights in hub.downloads.items():
        what = "dataset download" if option == "dataset" else f"{option} weights"
        how = parquet_how if option == "dataset" else "the hub's file metadata"
        size = parquet if option == "dataset" else weights
        needs.append(Need(what, "hub cache", folders["hub cache"], size, how))
    needs.append(
        Need(
            "arrow copy of the dataset",
            "datasets cache",
            folders["datasets cache"],
            parquet,
            parquet_how,
        )
    )
    side = _input_side(ARCHITECTURE)
    method_rows = rows.get("forget", 0) + rows.get("retain_synth", 0)
    needs += image_cache_needs(rows, method_rows, side, train_side(side), folders["harness cache"])
    return [
        Need(
            n.what, n.area, n.folder, n.size, f"{n.how}; {rows_how}" if "images" in n.how else n.how
        )
        for n in needs
    ]


def _input_side(architecture: str) -> int:
    import open_clip

    config = open_clip.get_model_config(architecture) or {}
    size = config.get("vision_cfg", {}).get("image_size", 224)
    return int(max(size) if isinstance(size, list | tuple) else size)


def _local_rows(snapshot: Path) -> dict[str, int]:
    import pyarrow.parquet as pq

    from harness.benchmarks.salmubench import PUBLISHED_ROWS

    rows = {}
    for split, published in PUBLISHED_ROWS.items():
        counted = 0
        for shard in sorted((snapshot / "data").glob(f"{split}-*.parquet")):
            try:
                counted += pq.ParquetFile(shard).metadata.num_rows
            except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
                raise BenchmarkError(
                    f"the dataset shard {shard} cannot be read: {exc}",
                    "the download may be truncated: download the dataset again",
                ) from exc
        rows[split] = counted or published  # a split missing here is still to come
    return rows


def _local_parquet_bytes(snapshot: Path) -> int:
    return sum(shard.stat().st_size for shard in (snapshot / "data").glob("*.parquet"))


def _datasets_cache() -> Path:
    from datasets import config

    return Path(config.HF_DATASETS_CACHE)
