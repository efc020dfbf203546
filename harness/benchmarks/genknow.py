"""Reading a zero-shot classification set for GenKnow: SALMU-mini's, or ImageNet-1k val.

Accepted layouts: a folder with ``zero_shot.json`` (classnames, templates) and
``data/*.parquet`` (image, label); an ImageFolder (one sub-folder per class); a folder saved
with ``datasets.Dataset.save_to_disk``. ImageNet-sized sets (1,000 classes) use open_clip's own
ImageNet classnames and templates.
"""

from __future__ import annotations

import json
from pathlib import Path

import datasets

from harness.benchmarks.base import GenKnowSet
from harness.benchmarks.hub_layout import quiet_datasets
from harness.errors import BenchmarkError

IMAGENET_CLASSES = 1000


def read_genknow(path: Path) -> GenKnowSet:
    """The zero-shot set at ``path``, in any of the accepted layouts."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise BenchmarkError(f"zero-shot set {path} does not exist or is not a folder")
    try:
        with quiet_datasets():
            loaded = _load(path)
    except BenchmarkError:
        raise
    except Exception as exc:
        raise BenchmarkError(
            f"cannot read the zero-shot set at {path}: {type(exc).__name__}: {exc}",
            "give an ImageFolder (one folder per class) or a datasets save_to_disk folder",
        ) from exc
    if isinstance(loaded, GenKnowSet):
        return loaded
    dataset = loaded
    if isinstance(dataset, datasets.DatasetDict):
        dataset = next(iter(dataset.values()))
    label_feature = dataset.features.get("label")
    if not isinstance(label_feature, datasets.ClassLabel) or "image" not in dataset.column_names:
        raise BenchmarkError(f"zero-shot set {path} needs an image column and a ClassLabel label")
    names = tuple(label_feature.names)
    templates: tuple[str, ...] = ("a photo of a {}.",)
    if len(names) == IMAGENET_CLASSES:
        from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES, OPENAI_IMAGENET_TEMPLATES

        names = tuple(IMAGENET_CLASSNAMES)
        templates = tuple(t("{}") for t in OPENAI_IMAGENET_TEMPLATES)
    return GenKnowSet(path.name, dataset, names, templates)


def _load(path: Path) -> GenKnowSet | datasets.Dataset | datasets.DatasetDict:
    if (path / "zero_shot.json").is_file():
        spec = json.loads((path / "zero_shot.json").read_text())
        shards = sorted(str(p) for p in (path / "data").glob("*.parquet"))
        dataset = datasets.load_dataset("parquet", data_files={"test": shards}, split="test")
        return GenKnowSet(path.name, dataset, tuple(spec["classnames"]), tuple(spec["templates"]))
    if (path / "dataset_info.json").is_file() or (path / "state.json").is_file():
        return datasets.load_from_disk(str(path))
    return datasets.load_dataset("imagefolder", data_dir=str(path), split="train")
