"""The real SALMUBench loader, exercised on hub-layout folders written by the mini generator.

Hub calls are replaced by fakes that raise the exact exceptions huggingface_hub raises, so every
error a user can meet is checked without a network.
"""

from __future__ import annotations

import shutil
import types
from pathlib import Path

import pytest
from huggingface_hub import errors as hub_errors

from harness.benchmarks import load_benchmark, salmubench
from harness.errors import BenchmarkError, CheckpointError
from harness.plugins import load_plugins
from harness.run.isolation import with_method_retain
from harness.run.models import load_clip


def local_options(mini_root: Path) -> dict[str, str]:
    return {
        "dataset": str(mini_root / "dataset"),
        "compromised": str(mini_root / "models" / "compromised"),
        "clean": str(mini_root / "models" / "clean"),
    }


def hub_error(kind: type, message: str = "boom") -> Exception:
    # a stand-in for the HTTP response: huggingface_hub's HTTP client library differs between
    # major versions (requests, httpx), and these errors only read its headers and request
    response = types.SimpleNamespace(
        status_code=401, headers={}, request=None, url="https://huggingface.co/x"
    )
    return kind(message, response=response)


def test_local_paths_load_with_all_derived_splits(mini_root: Path, mini_benchmark) -> None:
    benchmark = load_benchmark("salmubench", local_options(mini_root))
    assert benchmark.name == "salmubench"
    expected = {
        "forget",
        "holdout_association",
        "holdout_identity",
        "retain_synth",
        "retain_joint",
        "retain_disjoint",
        "fragile_set",
        "forget_identity",
        "forget_association",
    }
    assert set(benchmark.splits) == expected
    for name in expected:
        assert benchmark.split(name).sha256 == mini_benchmark.split(name).sha256
    forget = benchmark.split("forget")
    assert len(benchmark.split("forget_identity")) + len(
        benchmark.split("forget_association")
    ) == len(forget)
    partial = set(benchmark.split("holdout_association").identities)
    assert not partial & set(benchmark.split("forget_identity").identities)
    assert set(benchmark.split("retain_joint").identities) <= set(forget.identities)
    assert all(i is None for i in benchmark.split("retain_disjoint").identity_ids)
    fragile = set(benchmark.metadata["fragile_set_ids"])
    assert set(benchmark.split("fragile_set").file_names) == fragile
    official = load_plugins(third_party=False).protocol("official")
    suites = [s for s, _ in load_plugins(third_party=False).suites.values()]
    method_retain = set(
        with_method_retain(benchmark, suites, official, 42).split("retain").file_names
    )
    assert not method_retain & fragile
    assert not method_retain & set(benchmark.split("retain_joint").file_names)
    assert benchmark.genknow is None and "imagenet=SOURCE" in benchmark.genknow_skip_reason


def test_genknow_from_an_imagefolder(mini_root: Path, tmp_path: Path) -> None:
    from PIL import Image

    for label in ("cat", "dog"):
        (tmp_path / "val" / label).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (8, 8), (i * 90, 0, 0)).save(tmp_path / "val" / label / f"{i}.png")
    benchmark = load_benchmark(
        "salmubench", {**local_options(mini_root), "imagenet": str(tmp_path / "val")}
    )
    assert benchmark.genknow.classnames == ("cat", "dog")
    assert len(benchmark.genknow.dataset) == 4


def test_missing_split_and_metadata_file(mini_root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "dataset"
    shutil.copytree(mini_root / "dataset", copy)
    (copy / "fragile_set_ids.json").unlink()
    with pytest.raises(BenchmarkError, match=r"metadata file fragile_set_ids\.json is missing"):
        load_benchmark("salmubench", {**local_options(mini_root), "dataset": str(copy)})
    shutil.copy(mini_root / "dataset" / "fragile_set_ids.json", copy)
    next((copy / "data").glob("holdout_identity-*.parquet")).unlink()
    with pytest.raises(BenchmarkError, match="split 'holdout_identity' is missing"):
        load_benchmark("salmubench", {**local_options(mini_root), "dataset": str(copy)})


def test_corrupt_parquet_shard(mini_root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "dataset"
    shutil.copytree(mini_root / "dataset", copy)
    shard = next((copy / "data").glob("forget-*.parquet"))
    shard.write_bytes(shard.read_bytes()[:2000])
    with pytest.raises(BenchmarkError, match=r"split 'forget' .* cannot be read"):
        load_benchmark("salmubench", {**local_options(mini_root), "dataset": str(copy)})


def test_weights_that_are_not_vit_b_16_name_the_keys(mini_root: Path) -> None:
    weights = mini_root / "models" / "compromised" / "open_clip_model.safetensors"
    benchmark = load_benchmark(
        "salmubench", {**local_options(mini_root), "compromised": str(weights)}
    )
    source = benchmark.models["compromised"]
    assert source.architecture == "ViT-B-16"
    with pytest.raises(CheckpointError, match="does not match architecture ViT-B-16: missing"):
        load_clip(source.path, source.architecture)


def test_unknown_option(mini_root: Path) -> None:
    with pytest.raises(BenchmarkError, match="no option 'datset'"):
        load_benchmark("salmubench", {"datset": "x"})


@pytest.mark.parametrize(
    ("error", "needle"),
    [
        (lambda: hub_error(hub_errors.GatedRepoError), "is gated"),
        (lambda: hub_error(hub_errors.RepositoryNotFoundError), "not found, or it is gated"),
        (lambda: hub_error(hub_errors.RevisionNotFoundError), "revision 'abc' does not exist"),
        (lambda: hub_errors.LocalEntryNotFoundError("offline"), "not in the local cache"),
        (lambda: ConnectionError("no route"), "cannot download"),
    ],
)
def test_hub_errors_become_actionable_messages(monkeypatch, error, needle) -> None:
    def fake_download(*args, **kwargs):
        raise error()

    monkeypatch.setattr("huggingface_hub.snapshot_download", fake_download)
    with pytest.raises(BenchmarkError) as raised:
        load_benchmark("salmubench", {"dataset_revision": "abc"})
    assert needle in raised.value.message
    assert raised.value.hint


def test_gated_message_says_where_to_accept_and_what_to_set(monkeypatch) -> None:
    monkeypatch.setattr(
        "huggingface_hub.snapshot_download",
        lambda *a, **k: (_ for _ in ()).throw(hub_error(hub_errors.GatedRepoError)),
    )
    with pytest.raises(BenchmarkError) as raised:
        load_benchmark("salmubench")
    assert (
        "https://huggingface.co/datasets/cvc-mmu/salmubench-512-redistributed" in raised.value.hint
    )
    assert "HF_TOKEN" in raised.value.hint


def test_weights_come_from_the_pinned_revision(monkeypatch, mini_root: Path) -> None:
    calls = []

    def fake_file(repo_id, filename, repo_type, revision):
        calls.append((repo_id, filename, revision))
        return str(mini_root / "models" / "clean" / "open_clip_model.safetensors")

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_file)
    load_benchmark("salmubench", {"dataset": str(mini_root / "dataset"), "clean_revision": "main"})
    assert calls == [
        (
            salmubench.COMPROMISED.repo_id,
            "open_clip_pytorch_model.bin",
            salmubench.COMPROMISED.revision,
        ),
        (salmubench.CLEAN.repo_id, "open_clip_model.safetensors", "main"),
    ]


def test_offline_mode_is_real(tmp_path: Path) -> None:
    """With HF_HUB_OFFLINE=1 (set by conftest) the real hub client fails fast, and clearly."""
    with pytest.raises(BenchmarkError, match="not in the local cache"):
        load_benchmark("salmubench")
