"""Texts encoded without their padding agree with the model's own full-length encoding."""

from __future__ import annotations

import logging

import open_clip
import pytest
import torch

from harness.evaluation.embeddings import EmbeddingEngine
from harness.evaluation.evaluator import EngineOptions, Evaluator
from harness.evaluation.settings import EvaluationSettings
from harness.evaluation.short_text import ShortTextEncoder, text_lengths
from harness.run.models import load_clip

VISION = {"image_size": 32, "layers": 1, "width": 64, "patch_size": 16}
TEXT = {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 2}
CAPTIONS = ["Amaya Carmona lives in Baleares", "a red circle", "", "x " * 40]


def tiny_clip(**text: object) -> torch.nn.Module:
    torch.manual_seed(0)
    return open_clip.CLIP(embed_dim=32, vision_cfg=VISION, text_cfg={**TEXT, **text}).eval()


def tokens(texts: list[str]) -> torch.Tensor:
    return open_clip.get_tokenizer("ViT-B-16", context_length=32)(texts)


def test_lengths_are_the_filled_positions_rounded_up_to_the_step() -> None:
    rows = torch.zeros(3, 32, dtype=torch.long)
    rows[0, :5] = 7
    rows[1, :9] = 7
    rows[2, :] = 7
    assert text_lengths(rows) == [8, 16, 32]
    assert text_lengths(rows, step=5) == [5, 10, 32]


@pytest.mark.parametrize("custom_text", [False, True])
def test_shortened_embeddings_equal_the_full_length_ones(custom_text: bool) -> None:
    model = (
        open_clip.CustomTextCLIP(embed_dim=32, vision_cfg=VISION, text_cfg=TEXT).eval()
        if custom_text
        else tiny_clip()
    )
    encoder = ShortTextEncoder(model)
    assert encoder.shortens
    rows = tokens(CAPTIONS)
    with torch.inference_mode():
        full = model.encode_text(rows)
        for row, length in enumerate(text_lengths(rows)):
            short = encoder.encode(rows[row : row + 1], length)
            assert torch.allclose(short, full[row : row + 1], atol=1e-5)
    assert text_lengths(rows)[:3] == [16, 8, 8] and text_lengths(rows)[3] == 32


def test_towers_whose_padding_matters_are_not_shortened() -> None:
    assert not ShortTextEncoder(tiny_clip(pool_type="last")).shortens

    class Wrapped(open_clip.CLIP):
        def encode_text(self, text, normalize=False):  # type: ignore[no-untyped-def]
            return super().encode_text(text, normalize) * 2

    torch.manual_seed(0)
    assert not ShortTextEncoder(Wrapped(32, VISION, TEXT)).shortens
    assert not ShortTextEncoder(torch.nn.Linear(2, 2)).shortens


def test_a_disagreeing_shortcut_is_dropped_for_the_full_length(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    model = tiny_clip()
    encoder = ShortTextEncoder(model)
    monkeypatch.setattr(encoder, "_short", lambda rows: torch.zeros(len(rows), 32))
    rows = tokens(CAPTIONS[:2])
    with torch.inference_mode(), caplog.at_level(logging.WARNING):
        got = encoder.encode(rows, 8)
        assert torch.equal(got, model.encode_text(rows))
    assert not encoder.shortens and "full length" in caplog.text


def test_the_engine_gives_the_same_texts_shortened_or_not() -> None:
    model = tiny_clip()
    tokenizer = open_clip.get_tokenizer("ViT-B-16", context_length=32)

    def engine(shorten: bool) -> EmbeddingEngine:
        return EmbeddingEngine(
            model,
            tokenizer,
            lambda x: x,
            torch.device("cpu"),
            show_progress=False,
            shorten_texts=shorten,
        )

    texts = [f"person {i} has blood type AB+" for i in range(300)] + CAPTIONS
    short, full = engine(True).texts(texts), engine(False).texts(texts)
    assert short.shape == (len(texts), 32)
    assert torch.allclose(short, full, atol=1e-6)


def test_the_padding_choice_is_recorded_and_old_results_read_as_full() -> None:
    recorded = EvaluationSettings().to_json()
    assert recorded["text_padding"] == "trimmed"
    assert EvaluationSettings.from_json(recorded).text_padding == "trimmed"
    del recorded["text_padding"]
    assert EvaluationSettings.from_json(recorded).text_padding == "full"
    with pytest.raises(ValueError, match="text_padding"):
        EvaluationSettings(text_padding="none")


def test_the_evaluator_follows_the_settings_padding(mini_benchmark) -> None:

    loaded = load_clip(mini_benchmark.models["compromised"].path)
    shortens = {}
    for padding in ("trimmed", "full"):
        evaluator = Evaluator(
            mini_benchmark,
            [],
            EvaluationSettings(text_padding=padding),
            EngineOptions(torch.device("cpu"), num_workers=0, show_progress=False),
            lambda role: loaded,
            {"clean": "c", "compromised": "k"},
            image_cache=False,
        )
        shortens[padding] = evaluator.engine(loaded, "evaluated").shorten_texts
    assert shortens == {"trimmed": True, "full": False}
