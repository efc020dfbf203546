"""Token rows are shared across models only where the tokenizers provably agree."""

from __future__ import annotations

import open_clip
import torch

from harness.evaluation.tokens import TokenCache, tokenizer_signature

TEXTS = ["a photo of a cat", "Lucca Alves's occupation is nurse", "", "a photo of a cat"]


def test_rows_equal_the_tokenizer_and_are_computed_once_per_text() -> None:
    cache = TokenCache()
    first, second = (
        open_clip.SimpleTokenizer(context_length=32),
        open_clip.SimpleTokenizer(context_length=32),
    )
    assert torch.equal(cache.tokenize(first, TEXTS), first(TEXTS))
    assert (cache.hits, cache.misses) == (1, 3)  # the repeated text is served from the cache
    # another instance of an equal tokenizer (another model's) reuses every row
    assert torch.equal(cache.tokenize(second, TEXTS[:2]), second(TEXTS[:2]))
    assert (cache.hits, cache.misses) == (3, 3)


def test_tokenizers_with_other_settings_do_not_share_rows() -> None:
    short, long = (
        open_clip.SimpleTokenizer(context_length=16),
        open_clip.SimpleTokenizer(context_length=32),
    )
    assert tokenizer_signature(short) != tokenizer_signature(long)
    cache = TokenCache()
    assert cache.tokenize(short, TEXTS).shape == (4, 16)
    assert cache.tokenize(long, TEXTS).shape == (4, 32)
    assert cache.misses == 6


def test_an_unknown_tokenizer_is_called_every_time() -> None:
    calls = []

    def custom(texts):
        calls.append(list(texts))
        return torch.zeros(len(texts), 4, dtype=torch.long)

    assert tokenizer_signature(custom) is None
    cache = TokenCache()
    cache.tokenize(custom, TEXTS)
    cache.tokenize(custom, TEXTS)
    assert calls == [TEXTS, TEXTS] and cache.misses == 0
