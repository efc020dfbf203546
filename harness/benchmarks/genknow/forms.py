"""The local folder forms a zero-shot set can come in, each recognised by its files.

``FORMS`` is tried in order and the first form whose ``matches`` is true reads the folder; the
ImageFolder comes last because any folder of folders looks like one.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import datasets

from harness.benchmarks.base import GenKnowSet
from harness.benchmarks.genknow.prompts import resolve_prompts
from harness.benchmarks.genknow.webdataset_form import is_webdataset, read_webdataset
from harness.errors import BenchmarkError

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png", ".webp", ".bmp")


@dataclass(frozen=True)
class SourceForm:
    """One way of keeping a zero-shot set in a folder."""

    name: str
    """What results record as the set's ``source``."""
    layout: str
    """The files that identify it (shown in errors and ``genknow check``)."""
    matches: Callable[[Path], bool]
    read: Callable[[Path], GenKnowSet]


def labelled_set(
    dataset: datasets.Dataset | datasets.DatasetDict,
    name: str,
    source: str,
    location: str,
    templates: tuple[str, ...] | None = None,
) -> GenKnowSet:
    """A GenKnow set from a dataset with ``image`` and ``label`` columns."""
    if isinstance(dataset, datasets.DatasetDict):
        dataset = _evaluation_split(dataset, location)
    if "image" not in dataset.column_names or "label" not in dataset.column_names:
        raise BenchmarkError(
            f"the zero-shot set at {location} has columns {dataset.column_names}",
            "it needs an image column and an integer label column",
        )
    if not isinstance(dataset.features["image"], datasets.Image):
        dataset = dataset.cast_column("image", datasets.Image())
    feature = dataset.features["label"]
    names = list(feature.names) if isinstance(feature, datasets.ClassLabel) else None
    classes = len(names) if names else (max(dataset["label"], default=-1) + 1)
    classnames, chosen = resolve_prompts(names, templates, classes, location)
    return GenKnowSet(name, dataset, classnames, chosen, source, location)


def _evaluation_split(splits: datasets.DatasetDict, location: str) -> datasets.Dataset:
    for name in ("validation", "val", "test"):
        if name in splits:
            return splits[name]
    if len(splits) == 1:
        return next(iter(splits.values()))
    raise BenchmarkError(
        f"the zero-shot set at {location} has splits {sorted(splits)} and none is the "
        "validation split",
        "save only the split to evaluate on, or name it validation",
    )


def _read_zero_shot_folder(path: Path) -> GenKnowSet:
    spec = json.loads((path / "zero_shot.json").read_text())
    shards = sorted(str(p) for p in (path / "data").glob("*.parquet"))
    dataset = datasets.load_dataset("parquet", data_files={"test": shards}, split="test")
    classnames, templates = resolve_prompts(
        spec["classnames"], spec["templates"], len(spec["classnames"]), str(path)
    )
    return GenKnowSet(path.name, dataset, classnames, templates, "zero-shot-folder", str(path))


def _is_saved_dataset(path: Path) -> bool:
    return (
        (path / "dataset_info.json").is_file()
        or (path / "dataset_dict.json").is_file()
        or (path / "state.json").is_file()
    )


def _read_saved_dataset(path: Path) -> GenKnowSet:
    return labelled_set(datasets.load_from_disk(str(path)), path.name, "save-to-disk", str(path))


def parquet_files(path: Path) -> list[Path]:
    """The folder's parquet files; those of the validation split when file names say which
    split they hold (as the hub's ``data/validation-*.parquet`` shards do)."""
    files = sorted(path.rglob("*.parquet"))
    named = [f for f in files if f.name.startswith(("validation", "val-", "val_", "val."))]
    return named or files


def _read_parquet_folder(path: Path) -> GenKnowSet:
    files = [str(f) for f in parquet_files(path)]
    dataset = datasets.load_dataset("parquet", data_files={"validation": files}, split="validation")
    return labelled_set(dataset, path.name, "parquet", str(path))


def _read_image_folder(path: Path) -> GenKnowSet:
    """Class folders in sorted order are labels 0, 1, ... (torchvision's ImageFolder rule).

    The files are listed directly rather than through ``datasets``' imagefolder builder, which
    spends about 50 s resolving ImageNet val's 50,000 files in every process; the hashes are
    remembered by the files' names, sizes and modification times instead."""
    classes = _class_folders(path)
    files: list[str] = []
    labels: list[int] = []
    stamps = hashlib.sha256()
    for label, folder in enumerate(classes):
        with os.scandir(folder) as entries:
            found = sorted(
                (e for e in entries if e.is_file() and e.name.lower().endswith(IMAGE_SUFFIXES)),
                key=lambda e: e.name,
            )
        for entry in found:
            stat = entry.stat()
            files.append(entry.path)
            labels.append(label)
            stamps.update(f"{folder.name}/{entry.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    if not files:
        raise BenchmarkError(f"the ImageFolder at {path} holds no images in its class folders")
    dataset = datasets.Dataset.from_dict(
        {"image": files, "label": labels},
        features=datasets.Features({"image": datasets.Image(), "label": datasets.Value("int64")}),
    )
    names = [folder.name for folder in classes]
    classnames, templates = resolve_prompts(names, None, len(names), str(path))
    fingerprint = f"imagefolder:{path.resolve()}:{stamps.hexdigest()}"
    return GenKnowSet(
        path.name, dataset, classnames, templates, "imagefolder", str(path), fingerprint
    )


def _class_folders(path: Path) -> list[Path]:
    folders = sorted(
        (c for c in path.iterdir() if c.is_dir() and not c.name.startswith(".")),
        key=lambda c: c.name,
    )
    split_names = {"train", "val", "validation", "test"}
    if folders and {f.name for f in folders} <= split_names:
        raise BenchmarkError(
            f"{path} holds split folders ({', '.join(f.name for f in folders)}), not class folders",
            f"point at the validation split itself, e.g. {path / folders[-1].name}",
        )
    return folders


def _is_image_folder(path: Path) -> bool:
    return any(child.is_dir() and not child.name.startswith(".") for child in path.iterdir())


FORMS: tuple[SourceForm, ...] = (
    SourceForm(
        "zero-shot-folder",
        "zero_shot.json (classnames, templates) + data/*.parquet (SALMU-mini's)",
        lambda p: (p / "zero_shot.json").is_file(),
        _read_zero_shot_folder,
    ),
    SourceForm(
        "save-to-disk",
        "a datasets save_to_disk folder (dataset_info.json / state.json)",
        _is_saved_dataset,
        _read_saved_dataset,
    ),
    SourceForm(
        "webdataset",
        "CLIP_benchmark wds: classnames.txt + SPLIT/nshards.txt + SPLIT/*.tar",
        is_webdataset,
        read_webdataset,
    ),
    SourceForm(
        "parquet",
        "parquet files with image and label columns (e.g. a hub snapshot's data/*.parquet)",
        lambda p: next(p.rglob("*.parquet"), None) is not None,
        _read_parquet_folder,
    ),
    SourceForm(
        "imagefolder",
        "an ImageFolder: one sub-folder of images per class (wnid folders sort in class order)",
        _is_image_folder,
        _read_image_folder,
    ),
)
