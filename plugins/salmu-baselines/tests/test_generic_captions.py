"""generic-captions and rows without a generic caption: skipped, refused, or (old) sensitive."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import open_clip
import pytest
import torch
from salmu_baselines import methods

from harness import ParameterError
from harness.context import Batch

VISION = {"image_size": 32, "layers": 1, "width": 64, "patch_size": 16}
TEXT = {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 1}
NAMES = ["a.png", "b.png", "c.png"]


class Forget:
    file_names = NAMES

    def __len__(self) -> int:
        return len(NAMES)


def context(generic: dict[str, str]) -> SimpleNamespace:
    torch.manual_seed(0)
    model = open_clip.CLIP(embed_dim=32, vision_cfg=VISION, text_cfg=TEXT)
    return SimpleNamespace(
        model=model,
        forget=Forget(),
        generic_captions=generic,
        tokenizer=open_clip.get_tokenizer("ViT-B-16", context_length=16),
        logger=logging.getLogger("test.generic"),
    )


def batch() -> Batch:
    tokens = open_clip.get_tokenizer("ViT-B-16", context_length=16)(["s a", "s b", "s c"])
    return Batch(torch.randn(3, 3, 32, 32), tokens, ["s a", "s b", "s c"], [None] * 3, NAMES)


def step_loss(ctx: SimpleNamespace, rule: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(methods, "train_within_budget", lambda ctx, params, loss, **_: loss)
    return methods.generic_captions(ctx, {"without_generic": rule})


def test_refuse_names_the_missing_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = context({"a.png": "a person"})
    with pytest.raises(ParameterError, match="2 of 3 forget rows have no generic caption"):
        step_loss(ctx, "refuse", monkeypatch)


def test_skip_trains_only_rows_with_a_generic_caption(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = context({"a.png": "a person", "c.png": "a person outdoors"})
    with caplog.at_level(logging.WARNING):
        loss = step_loss(ctx, "skip", monkeypatch)
    assert "1 of 3 forget rows have no generic caption: left out of the loss" in caplog.text
    data = batch()
    seen: list[int] = []
    real = methods.training.encode_pair
    monkeypatch.setattr(
        methods.training,
        "encode_pair",
        lambda model, images, tokens: seen.append(len(images)) or real(model, images, tokens),
    )
    value = loss(ctx.model, data, None)
    assert seen == [2] and torch.isfinite(value)


def test_no_row_with_a_generic_caption_gives_a_zero_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = context({})
    value = step_loss(ctx, "skip", monkeypatch)(ctx.model, batch(), None)
    assert float(value.detach()) == 0.0 and value.requires_grad
