"""CLIP_benchmark-style webdataset folders (the ``wds_imagenet1k`` layout), read with the
``webdataset`` library.

Layout: ``classnames.txt`` (line i names label i), optionally
``zeroshot_classification_templates.txt`` (one template per line, ``{c}`` for the class), and a
split folder (``test`` by default, as CLIP_benchmark writes it) with ``nshards.txt`` and
``0.tar`` .. ``N-1.tar``, whose samples hold an image (``webp``, ``png``, ``jpg`` or ``jpeg``)
and its zero-based label as ASCII (``cls``). The samples are copied once into a ``datasets``
cache, keyed by the shards' paths, sizes and modification times.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datasets

from harness.benchmarks.base import GenKnowSet
from harness.benchmarks.genknow.prompts import resolve_prompts
from harness.errors import BenchmarkError

CLASSNAMES = "classnames.txt"
TEMPLATES = "zeroshot_classification_templates.txt"
SPLITS = ("test", "val", "validation", "train")
IMAGE_EXTENSIONS = ("webp", "png", "jpg", "jpeg")


def is_webdataset(path: Path) -> bool:
    """Whether ``path`` looks like a CLIP_benchmark webdataset folder."""
    return (path / CLASSNAMES).is_file() and split_folder(path) is not None


def split_folder(path: Path) -> Path | None:
    """The split folder to read: the first of ``SPLITS`` that holds ``nshards.txt``."""
    for name in SPLITS:
        if (path / name / "nshards.txt").is_file():
            return path / name
    return None


def shard_paths(folder: Path) -> list[Path]:
    """``0.tar`` .. ``N-1.tar`` as ``nshards.txt`` counts them; all must exist."""
    text = (folder / "nshards.txt").read_text().strip()
    try:
        count = int(text)
    except ValueError:
        raise BenchmarkError(
            f"{folder / 'nshards.txt'} must hold one integer, not {text!r}"
        ) from None
    shards = [folder / f"{index}.tar" for index in range(count)]
    missing = [s.name for s in shards if not s.is_file()]
    if missing:
        raise BenchmarkError(
            f"{folder} should hold {count} shards (nshards.txt) but {missing[0]} is missing",
            "copy every shard, or correct nshards.txt",
        )
    return shards


def read_webdataset(path: Path) -> GenKnowSet:
    """The zero-shot set of a CLIP_benchmark webdataset folder."""
    try:
        import webdataset  # noqa: F401
    except ImportError:
        raise BenchmarkError(
            f"{path} is a webdataset folder, and reading it needs the webdataset library",
            "pip install 'salmu-harness[webdataset]'",
        ) from None
    folder = split_folder(path)
    assert folder is not None
    shards = shard_paths(folder)
    names = [line.strip() for line in (path / CLASSNAMES).read_text().splitlines() if line.strip()]
    templates_file = path / TEMPLATES
    templates = (
        [line.strip() for line in templates_file.read_text().splitlines() if line.strip()]
        if templates_file.is_file()
        else None
    )
    classnames, chosen = resolve_prompts(names, templates, len(names), str(path))
    # plain integer labels: open_clip's ImageNet names repeat two ("crane", "maillot"), which
    # a ClassLabel refuses; the names travel with the GenKnowSet instead
    features = datasets.Features({"image": datasets.Image(), "label": datasets.Value("int64")})
    stamps = [(str(s.resolve()), s.stat().st_size, s.stat().st_mtime_ns) for s in shards]
    try:
        dataset = datasets.Dataset.from_generator(
            _samples, features=features, gen_kwargs={"stamps": stamps, "classes": len(names)}
        )
    except datasets.exceptions.DatasetGenerationError as exc:
        cause = exc.__cause__
        raise (cause if isinstance(cause, BenchmarkError) else exc) from None
    assert isinstance(dataset, datasets.Dataset)
    return GenKnowSet(path.name, dataset, classnames, chosen, "webdataset", str(path))


def _samples(stamps: list[tuple[str, int, int]], classes: int) -> Iterator[dict[str, Any]]:
    import webdataset as wds

    for sample in wds.WebDataset([s[0] for s in stamps], shardshuffle=False, empty_check=False):
        key = sample["__key__"]
        extension = next((e for e in IMAGE_EXTENSIONS if e in sample), None)
        if extension is None or "cls" not in sample:
            raise BenchmarkError(
                f"sample {key} of {sample.get('__url__')} has {sorted(sample)} "
                f"and needs one of {', '.join(IMAGE_EXTENSIONS)} and cls"
            )
        label = int(sample["cls"].decode("ascii").strip())
        if not 0 <= label < classes:
            raise BenchmarkError(
                f"sample {key} of {sample.get('__url__')} has label {label}, "
                f"outside the {classes} classes of classnames.txt"
            )
        yield {"image": {"bytes": sample[extension], "path": f"{key}.{extension}"}, "label": label}
