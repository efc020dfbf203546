"""The GenKnow source, plugin and cache checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.doctor import local_setup
from tests.test_plugins import fake_entry_point, method_module


def test_no_imagenet_is_a_warning_and_a_missing_folder_a_problem(tmp_path: Path) -> None:
    none = local_setup.genknow_check(None)
    assert none.status == "warning" and "imagenet=SOURCE" in none.fix
    missing = local_setup.genknow_check(str(tmp_path / "imagenet-val"))
    assert missing.status == "problem"
    assert str(tmp_path / "imagenet-val") in missing.detail
    assert missing.fix


def test_a_hub_genknow_source_is_not_downloaded_by_the_doctor(monkeypatch) -> None:
    def no_read(source):
        raise AssertionError("doctor must not download it")

    monkeypatch.setattr("harness.benchmarks.genknow.read_genknow", no_read)
    row = local_setup.genknow_check("hf:ILSVRC/imagenet-1k")
    assert row.status == "warning"
    assert (
        row.fix
        == "check it once, which downloads it: salmu-harness genknow check hf:ILSVRC/imagenet-1k"
    )


def test_a_genknow_set_that_is_not_imagenet_val_is_a_warning(mini_root: Path) -> None:
    row = local_setup.genknow_check(str(mini_root / "genknow"))
    assert row.status == "warning"
    assert "ImageNet-1k val has 50,000 in 1,000" in row.detail


@pytest.fixture
def entry_points(monkeypatch):
    from importlib import metadata

    installed: list = []
    monkeypatch.setattr(metadata, "entry_points", lambda group: list(installed))
    monkeypatch.delenv("SALMU_HARNESS_PLUGINS", raising=False)
    return installed


def test_a_broken_plugin_is_a_problem_with_its_error(entry_points) -> None:
    entry_points.append(
        fake_entry_point("fine", method_module("doctor_fine", "fine-method"), "salmu-fine")
    )
    entry_points.append(fake_entry_point("gone", "doctor_no_such_module", "salmu-gone"))
    rows = {c.name: c for c in local_setup.plugin_checks()}
    fine = rows["fine (salmu-fine 1.0)"]
    assert fine.status == "ok"
    assert fine.detail == "1 method; plugin API >=1,<2 (this harness: 1.0)"
    gone = rows["gone (salmu-gone 1.0)"]
    assert gone.status == "problem"
    assert "doctor_no_such_module" in gone.detail
    assert "pip uninstall salmu-gone" in gone.fix


def test_a_cache_is_sized_and_checked_for_writing(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "entry").write_bytes(b"x" * 1000)
    row = local_setup.cache_check("harness cache", tmp_path / "cache")
    assert row.status == "ok" and str(tmp_path / "cache") in row.detail
    assert local_setup.cache_check("hub cache", tmp_path / "not-yet").status == "ok"
    if os.geteuid() != 0:  # root writes anywhere
        (tmp_path / "cache").chmod(0o500)
        assert local_setup.cache_check("harness cache", tmp_path / "cache").status == "problem"
