"""Reading a SALMUBench evaluation dataset laid out as on the hub, and deriving its splits.

The layout (``data/{split}-*.parquet`` shards with columns image, text, identity_id, file_name,
plus metadata JSON files) is the one of ``cvc-mmu/salmubench-512-redistributed``; SALMU-mini
writes the same, so this module reads both.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import datasets

from harness.benchmarks.base import Split
from harness.errors import BenchmarkError

STORED_SPLITS = ("forget", "holdout_association", "holdout_identity", "retain_synth")
COLUMNS = ("image", "text", "identity_id", "file_name")
#: metadata file -> key under which ``Benchmark.metadata`` holds its content
METADATA_FILES = {
    "identities_metadata.json": "identities",
    "sensitive_set_captions_metadata.json": "captions",
    "sensitive_set_generic_captions.json": "generic_captions",
    "fragile_set_ids.json": "fragile_set_ids",
}


def read_evaluation_dataset(folder: Path) -> tuple[dict[str, Split], dict[str, Any]]:
    """The stored splits and metadata of a local evaluation-dataset folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BenchmarkError(f"dataset folder {folder} does not exist")
    metadata = {key: read_json(folder / name) for name, key in METADATA_FILES.items()}
    splits = {name: read_split(folder, name) for name in STORED_SPLITS}
    return splits, metadata


def read_json(path: Path) -> Any:
    """A metadata JSON file, with a clear error when it is missing or corrupt."""
    if not path.is_file():
        raise BenchmarkError(
            f"metadata file {path.name} is missing from {path.parent}",
            "give the full snapshot of the dataset repository (all *.json files at its root)",
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BenchmarkError(
            f"metadata file {path} is corrupt: {exc}", "download it again"
        ) from exc


def read_split(folder: Path, name: str) -> Split:
    """One stored split from its parquet shards, checked for the expected columns."""
    shards = sorted((folder / "data").glob(f"{name}-*.parquet"))
    if not shards:
        raise BenchmarkError(
            f"split {name!r} is missing from {folder} (no data/{name}-*.parquet)",
            "give the full snapshot of the dataset repository",
        )
    try:
        with quiet_datasets():
            dataset = datasets.load_dataset(
                "parquet", data_files={name: [str(s) for s in shards]}, split=name
            )
    except Exception as exc:  # pyarrow.ArrowInvalid, datasets errors, OSError
        raise BenchmarkError(
            f"split {name!r} in {folder} cannot be read: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}",
            "the parquet shards may be truncated or corrupt: download them again",
        ) from exc
    missing = [c for c in COLUMNS if c not in dataset.column_names]
    if missing:
        raise BenchmarkError(f"split {name!r} in {folder} lacks columns {missing}")
    return Split(name, dataset)


def derive_splits(stored: dict[str, Split], metadata: dict[str, Any]) -> dict[str, Split]:
    """The evaluator's derived splits, as the benchmark defines them.

    - ``retain_joint``: retain_synth rows whose identity is a forget identity;
    - ``retain_disjoint``: retain_synth rows with no identity;
    - ``fragile_set``: retain_disjoint rows listed in ``fragile_set_ids.json``;
    - ``forget_identity``: forget rows whose identity is not in holdout_association;
    - ``forget_association``: the other forget rows.
    """
    forget, retain = stored["forget"], stored["retain_synth"]
    forget_ids = set(forget.identities)
    partial_ids = set(stored["holdout_association"].identities)
    fragile = set(metadata["fragile_set_ids"])
    retain_ids = retain.identity_ids
    disjoint_rows = [i for i, ident in enumerate(retain_ids) if ident is None]
    derived = {
        "retain_joint": _select(
            retain, "retain_joint", [i for i, ident in enumerate(retain_ids) if ident in forget_ids]
        ),
        "retain_disjoint": _select(retain, "retain_disjoint", disjoint_rows),
        "fragile_set": _select(
            retain, "fragile_set", [i for i in disjoint_rows if retain.file_names[i] in fragile]
        ),
        "forget_identity": _select(
            forget,
            "forget_identity",
            [i for i, ident in enumerate(forget.identity_ids) if ident not in partial_ids],
        ),
        "forget_association": _select(
            forget,
            "forget_association",
            [i for i, ident in enumerate(forget.identity_ids) if ident in partial_ids],
        ),
    }
    return {**stored, **derived}


def _select(split: Split, name: str, rows: list[int]) -> Split:
    return Split(name, split.dataset.select(rows), parent=split, parent_rows=rows)


class quiet_datasets:
    """Silence the datasets library's progress bars and info logs while reading local files."""

    def __enter__(self) -> None:
        self._bars = datasets.utils.logging.is_progress_bar_enabled()
        datasets.utils.logging.disable_progress_bar()
        self._level = logging.getLogger("datasets").level
        datasets.utils.logging.set_verbosity_error()

    def __exit__(self, *exc: object) -> None:
        if self._bars:
            datasets.utils.logging.enable_progress_bar()
        datasets.utils.logging.set_verbosity(self._level or logging.WARNING)
