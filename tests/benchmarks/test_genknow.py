"""Reading zero-shot sets for GenKnow: SALMU-mini's, ImageFolders, save_to_disk folders."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest
from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES, OPENAI_IMAGENET_TEMPLATES
from PIL import Image

from harness.benchmarks.genknow import read_genknow
from harness.errors import BenchmarkError


def test_mini_set_has_its_own_classnames_and_templates(mini_root: Path) -> None:
    genknow = read_genknow(mini_root / "genknow")
    assert len(genknow.classnames) == 48 and genknow.classnames[0] == "red circle"
    assert "a photo of a {}." in genknow.templates
    assert set(genknow.dataset["label"]) <= set(range(48))


def test_an_imagenet_sized_imagefolder_uses_open_clips_names_and_templates(tmp_path: Path) -> None:
    for index in range(1000):
        folder = tmp_path / f"n{index:08d}"  # wnid-like names sort in class-index order
        folder.mkdir()
        Image.new("RGB", (2, 2)).save(folder / "0.png")
    genknow = read_genknow(tmp_path)
    assert genknow.classnames == tuple(IMAGENET_CLASSNAMES)
    assert len(genknow.templates) == len(OPENAI_IMAGENET_TEMPLATES)
    assert genknow.templates[0].format("cat") == OPENAI_IMAGENET_TEMPLATES[0]("cat")


def test_a_save_to_disk_folder(tmp_path: Path) -> None:
    images = [Image.new("RGB", (4, 4), (i * 60, 0, 0)) for i in range(4)]
    features = datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=["cat", "dog"])}
    )
    datasets.Dataset.from_dict(
        {"image": images, "label": [0, 1, 0, 1]}, features=features
    ).save_to_disk(str(tmp_path / "set"))
    genknow = read_genknow(tmp_path / "set")
    assert genknow.classnames == ("cat", "dog") and len(genknow.dataset) == 4


def test_unusable_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkError, match="does not exist"):
        read_genknow(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchmarkError, match="cannot read the zero-shot set"):
        read_genknow(tmp_path / "empty")
