"""The preprocessed-image cache: identical numbers, keys, concurrent writers, `cache` CLI."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from harness.cli import main
from harness.evaluation.image_cache import AREA, ImageCache, PixelTransform, content_key
from harness.run.checkpoints import evaluate_checkpoint
from harness.run.models import load_clip
from harness.run.settings import RunOptions
from harness.storage import cache_dir


@pytest.fixture(scope="module")
def compromised(mini_benchmark):
    return load_clip(mini_benchmark.models["compromised"].path)


def test_cached_pixels_normalise_to_exactly_what_the_transform_gives(
    compromised, mini_benchmark
) -> None:
    pixels = PixelTransform.split(compromised.preprocess_eval)
    assert pixels is not None and "Resize" in pixels.description
    for row in mini_benchmark.split("forget").dataset.select(range(5)):
        image = row["image"]
        expected = compromised.preprocess_eval(image.convert("RGB"))
        cached = pixels.pixels(image)
        assert cached.dtype == torch.uint8
        assert torch.equal(pixels.normalise(cached[None])[0], expected)


def test_transforms_that_cannot_be_split_are_not_cached() -> None:
    assert PixelTransform.split(lambda image: image) is None


def test_the_description_is_stable_across_instances(compromised) -> None:
    again = load_clip(compromised.weights_path.parent)
    first = PixelTransform.split(compromised.preprocess_eval).description
    assert first == PixelTransform.split(again.preprocess_eval).description
    assert "0x" not in first  # no memory address in the key


def test_evaluation_numbers_are_identical_with_and_without_the_cache(
    mini_root: Path, mini_benchmark, tmp_path: Path
) -> None:
    checkpoint = mini_benchmark.models["compromised"].path
    documents = []
    shutil.rmtree(cache_dir(AREA), ignore_errors=True)  # the first cached run must build it
    for use_cache in (False, True, True):
        options = RunOptions(
            benchmark=str(mini_root),
            output_dir=tmp_path,
            show_progress=False,
            num_workers=0,
            image_cache=use_cache,
        )
        documents.append(evaluate_checkpoint(checkpoint, options).document)
    plain, built, read = documents
    assert "image_cache" not in plain["evaluation"]
    assert built["evaluation"]["image_cache"]["hits"] == 0
    assert built["evaluation"]["image_cache"]["misses"] > 0
    assert read["evaluation"]["image_cache"] == {
        **read["evaluation"]["image_cache"],
        "hits": built["evaluation"]["image_cache"]["misses"],
        "misses": 0,
    }
    for key, metric in plain["metrics"].items():
        for other in (built, read):
            again = other["metrics"][key]
            assert again["value"] == metric["value"], key
            assert again.get("values") == metric.get("values"), key
            assert again.get("per_row") == metric.get("per_row"), key


def test_keys_change_with_content_transform_and_scope() -> None:
    base = content_key("mini@r1", "a" * 64, "image", "[resize 32]")
    assert base == content_key("mini@r1", "a" * 64, "image", "[resize 32]")
    assert base != content_key("mini@r2", "a" * 64, "image", "[resize 32]")
    assert base != content_key("mini@r1", "b" * 64, "image", "[resize 32]")
    assert base != content_key("mini@r1", "a" * 64, "image", "[resize 224]")


def _batches(rows: int = 10):
    data = torch.arange(rows * 3 * 4 * 4, dtype=torch.int64).remainder(251).to(torch.uint8)
    data = data.view(rows, 3, 4, 4)
    return [data[i : i + 3] for i in range(0, rows, 3)], data


def test_concurrent_writers_agree_and_leave_one_entry(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path)
    chunks, expected = _batches()
    results: list[torch.Tensor] = []

    def build() -> None:
        results.append(ImageCache(tmp_path).get_or_build("k", lambda: iter(chunks), {}))

    threads = [threading.Thread(target=build) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(torch.equal(r, expected) for r in results)
    assert [e["key"] for e in cache.entries()] == ["k"]
    assert not list(tmp_path.glob(".*.tmp"))  # no staging file left behind


def test_an_incomplete_entry_is_rebuilt(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path)
    chunks, expected = _batches()
    cache.get_or_build("k", lambda: iter(chunks), {})
    data = tmp_path / "k.u8"
    data.write_bytes(data.read_bytes()[:-5])  # a torn file
    assert cache.load("k") is None
    assert torch.equal(cache.get_or_build("k", lambda: iter(chunks), {}), expected)
    assert (cache.hits, cache.misses) == (0, 2)


def test_cache_info_and_clear(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SALMU_HARNESS_CACHE", str(tmp_path))
    chunks, _ = _batches()
    ImageCache().get_or_build("k", lambda: iter(chunks), {"scope": "mini@r1"})
    result = CliRunner().invoke(main, ["cache", "info"])
    assert result.exit_code == 0 and "mini@r1" in result.output and "10x3x4x4" in result.output
    stored = sum(p.stat().st_size for p in (tmp_path / "images").iterdir())
    assert stored > 480  # 10x3x4x4 bytes of pixels plus the entry's description
    result = CliRunner().invoke(main, ["cache", "clear"])
    assert f"cleared images: {stored} B freed" in result.output
    assert ImageCache().entries() == []


@pytest.mark.slow
def test_compiled_image_encoding_matches_eager(compromised, mini_benchmark) -> None:
    from harness.evaluation.embeddings import EmbeddingEngine

    images = mini_benchmark.split("forget").dataset.select(range(8))
    outputs = []
    for compile_model in (False, True):
        engine = EmbeddingEngine(
            compromised.model,
            compromised.tokenizer,
            compromised.preprocess_eval,
            torch.device("cpu"),
            show_progress=False,
            num_workers=0,
            compile=compile_model,
        )
        outputs.append(engine.images(images))
    assert outputs[0].shape == (8, outputs[0].shape[1])
    assert torch.allclose(outputs[0], outputs[1], atol=1e-5)


def test_filling_yields_every_batch_and_commits_only_when_complete(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path)
    chunks, expected = _batches()
    stream = cache.filling("k", iter(chunks), {"scope": "s"})
    first = next(stream)
    assert torch.equal(first, chunks[0]) and cache.load("k") is None  # not yet an entry
    stream.close()  # the consumer stopped early (an exception, Ctrl-C)
    assert cache.load("k") is None and not list(tmp_path.glob(".*.tmp"))
    passed = list(cache.filling("k", iter(chunks), {"scope": "s"}))
    assert all(torch.equal(a, b) for a, b in zip(passed, chunks, strict=True))
    assert torch.equal(cache.lookup("k"), expected)
    assert (cache.hits, cache.misses) == (1, 2)


def test_a_cache_that_cannot_be_written_still_yields_every_batch(tmp_path: Path, caplog) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")  # the cache root is a file: nothing can be written under it
    chunks, _ = _batches()
    passed = list(ImageCache(blocked).filling("k", iter(chunks), {}))
    assert len(passed) == len(chunks)
    assert "image cache unavailable" in caplog.text
