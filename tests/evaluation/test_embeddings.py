"""The embedding engine gives what a direct ``encode_image`` / ``encode_text`` gives, row by row.

Every metric reads these embeddings: a row-order, normalisation or batching regression here
would move every number while each metric's own tests still passed.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from harness.evaluation.embeddings import EmbeddingEngine
from harness.evaluation.image_cache import ImageCache
from harness.run.models import load_clip


@pytest.fixture(scope="module")
def compromised(mini_benchmark):
    return load_clip(mini_benchmark.models["compromised"].path)


def direct(compromised, split) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row encoded on its own, straight through the model."""
    model = compromised.model.eval()
    with torch.no_grad():
        images = torch.cat(
            [
                model.encode_image(compromised.preprocess_eval(row["image"].convert("RGB"))[None])
                for row in split.dataset
            ]
        )
        texts = torch.cat([model.encode_text(compromised.tokenizer([t])) for t in split.texts])
    return F.normalize(images, dim=-1), F.normalize(texts, dim=-1)


@pytest.mark.parametrize("batch_size", [7, 256])
@pytest.mark.parametrize("cached", [False, True])
def test_split_embeddings_equal_direct_encoding_of_the_same_rows(
    mini_benchmark, compromised, tmp_path, batch_size: int, cached: bool
) -> None:
    split = mini_benchmark.split("holdout_identity")
    engine = EmbeddingEngine(
        compromised.model,
        compromised.tokenizer,
        compromised.preprocess_eval,
        torch.device("cpu"),
        batch_size=batch_size,
        num_workers=0,
        show_progress=False,
        image_cache=ImageCache(tmp_path) if cached else None,
    )
    embeddings = engine.split(split)
    image, text = direct(compromised, split)
    assert embeddings.image.shape == image.shape and embeddings.image.dtype == torch.float32
    torch.testing.assert_close(embeddings.image, image, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(embeddings.text, text, atol=1e-5, rtol=1e-4)
    assert torch.allclose(embeddings.image.norm(dim=1), torch.ones(len(split)), atol=1e-5)
    assert embeddings.texts == split.texts and embeddings.file_names == split.file_names
    assert embeddings.identity_ids == split.identity_ids
    torch.testing.assert_close(
        embeddings.pair_similarities(), (image * text).sum(dim=1), atol=1e-5, rtol=1e-4
    )


def test_a_cold_cache_encodes_while_decoding_and_equals_a_warm_read(
    mini_benchmark, compromised, tmp_path
) -> None:
    split = mini_benchmark.split("fragile_set")

    def engine() -> EmbeddingEngine:
        return EmbeddingEngine(
            compromised.model,
            compromised.tokenizer,
            compromised.preprocess_eval,
            torch.device("cpu"),
            batch_size=16,
            num_workers=0,
            show_progress=False,
            image_cache=ImageCache(tmp_path),
        )

    cold, warm = engine(), engine()
    first = cold.images(split.dataset, content_sha256=split.sha256)
    assert cold.image_cache.misses == 1 and cold.clock.seconds["decode"] > 0
    second = warm.images(split.dataset, content_sha256=split.sha256)
    assert warm.image_cache.hits == 1 and warm.clock.seconds["decode"] == 0.0
    assert torch.equal(first, second)  # bit for bit: the same batches, the same operations
    assert warm.clock.seconds["image_encode"] > 0


@pytest.mark.parametrize(("decoded", "size"), [(3, 8), (8, 3), (5, 5), (256, 1000)])
def test_decoded_batches_are_regrouped_into_exactly_the_encoding_batches(
    decoded: int, size: int
) -> None:
    from harness.evaluation.embeddings import rebatched

    rows = torch.arange(23)
    out = list(rebatched((rows[i : i + decoded] for i in range(0, 23, decoded)), size))
    assert [len(b) for b in out] == [len(rows[i : i + size]) for i in range(0, 23, size)]
    assert torch.equal(torch.cat(out), rows)


def test_pixels_of_chosen_rows_are_the_transform_output_cached_or_not(
    mini_benchmark, compromised, tmp_path
) -> None:
    split = mini_benchmark.split("forget")
    rows = [7, 0, 3, 3]
    expected = torch.stack(
        [compromised.preprocess_eval(split.dataset[i]["image"].convert("RGB")) for i in rows]
    )

    def engine(cache: ImageCache | None) -> EmbeddingEngine:
        return EmbeddingEngine(
            compromised.model,
            compromised.tokenizer,
            compromised.preprocess_eval,
            torch.device("cpu"),
            num_workers=0,
            show_progress=False,
            image_cache=cache,
        )

    assert torch.equal(engine(None).pixels(split, rows), expected)
    cached = engine(ImageCache(tmp_path))
    assert torch.equal(cached.pixels(split, rows), expected)  # no entry yet: decoded
    cached.split(split)  # fills the cache
    assert cached.image_cache is not None and cached.image_cache.entries()
    cached.preprocess = None  # type: ignore[assignment]  # decoding would fail now
    assert torch.equal(cached.pixels(split, rows), expected)  # read from the entry
