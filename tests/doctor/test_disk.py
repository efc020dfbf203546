"""Disk needs sized from row counts and geometries, against the free space of each file system."""

from __future__ import annotations

from pathlib import Path

from harness.benchmarks.salmubench import PUBLISHED_ROWS
from harness.doctor import disk
from harness.doctor.hub_access import HubFindings
from harness.doctor.run import salmubench_needs


def test_image_caches_are_rows_times_the_uint8_image() -> None:
    evaluation, training = disk.image_cache_needs(
        dict(PUBLISHED_ROWS), 47_209, 224, disk.train_side(224), Path("/cache")
    )
    assert evaluation.size == 76_794 * 3 * 224 * 224  # 10.8 GiB
    assert training.size == 47_209 * 3 * 256 * 256  # 8.6 GiB: 256 = 224 x 8/7
    assert disk.train_side(224) == 256


def test_a_full_disk_is_a_problem_saying_how_much_to_free(tmp_path: Path) -> None:
    needs = [
        disk.Need("evaluation image cache", "harness cache", tmp_path / "a", 10 * 2**30, "x"),
        disk.Need("dataset download", "hub cache", tmp_path / "b", 6 * 2**30, "y"),
    ]
    (row,) = disk.disk_checks(needs, free_bytes=lambda folder: 4 * 2**30)
    assert row.status == "problem"
    assert row.name == "space for the harness cache, hub cache"
    assert "16.0 GiB for a first run" in row.detail and "4.0 GiB free" in row.detail
    assert row.fix.startswith("free 12.0 GiB there")
    (roomy,) = disk.disk_checks(needs, free_bytes=lambda folder: 100 * 2**30)
    assert roomy.status == "ok"


def test_the_real_free_space_is_read_where_the_cache_will_be(monkeypatch, tmp_path: Path) -> None:
    import collections
    import shutil

    asked = []
    usage = collections.namedtuple("usage", "total used free")

    def fake_usage(path):
        asked.append(Path(path))
        return usage(100, 99, 2**30)

    monkeypatch.setattr(shutil, "disk_usage", fake_usage)
    need = disk.Need(
        "training image cache", "harness cache", tmp_path / "not" / "yet", 2 * 2**30, "z"
    )
    (row,) = disk.disk_checks([need])
    assert row.status == "problem"
    assert asked == [tmp_path]  # the nearest existing folder: caches are made on first use


def test_what_cannot_be_sized_offline_is_a_warning_not_a_guess(tmp_path: Path) -> None:
    needs = [disk.Need("dataset download", "hub cache", tmp_path, None, "the hub's file list")]
    (row,) = disk.disk_checks(needs, free_bytes=lambda folder: 10 * 2**30)
    assert row.status == "warning"
    assert "cannot size here: dataset download (the hub's file list)" in row.detail


def test_a_local_dataset_is_counted_not_taken_from_the_card(mini_root: Path) -> None:
    hub = HubFindings([], offline=True, token=None)
    needs = {n.what: n for n in salmubench_needs({"dataset": str(mini_root / "dataset")}, hub)}
    parquet = sum(p.stat().st_size for p in (mini_root / "dataset" / "data").glob("*.parquet"))
    assert needs["arrow copy of the dataset"].size == parquet
    import pyarrow.parquet as pq

    rows = sum(
        pq.ParquetFile(p).metadata.num_rows
        for p in (mini_root / "dataset" / "data").glob("*.parquet")
        if p.name.split("-")[0] in PUBLISHED_ROWS
    )
    assert needs["evaluation image cache"].size == rows * 3 * 224 * 224
    assert "rows counted in" in needs["evaluation image cache"].how
    assert "dataset download" not in needs  # nothing to download


def test_online_the_download_is_sized_from_the_hub_file_list(monkeypatch) -> None:
    import types

    from harness.benchmarks.salmubench import DATASET

    asked = {}

    def dataset_info(self, repo_id, revision=None, files_metadata=False, token=None, timeout=None):
        asked.update(repo_id=repo_id, revision=revision, files_metadata=files_metadata)
        sibling = types.SimpleNamespace
        return sibling(
            siblings=[
                sibling(rfilename="data/forget-00000-of-00007.parquet", size=3 * 2**30),
                sibling(rfilename="data/retain_synth-00000-of-00002.parquet", size=2**30),
                sibling(rfilename="identities_metadata.json", size=5_000_000),
            ]
        )

    monkeypatch.setattr("huggingface_hub.HfApi.dataset_info", dataset_info)
    hub = HubFindings([], offline=False, token="hf_x", downloads={"dataset": None})
    needs = {n.what: n for n in salmubench_needs({}, hub)}
    assert asked == {
        "repo_id": DATASET.repo_id,
        "revision": DATASET.revision,
        "files_metadata": True,
    }
    assert needs["dataset download"].size == needs["arrow copy of the dataset"].size == 4 * 2**30
    assert needs["dataset download"].folder != needs["arrow copy of the dataset"].folder
    assert "rows from the dataset card" in needs["training image cache"].how
