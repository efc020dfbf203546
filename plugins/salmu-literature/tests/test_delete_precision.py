"""DELETE's masked distillation under fp16 autocast: the mask must not overflow half floats."""

from __future__ import annotations

import open_clip
import pytest
import torch
from salmu_literature import methods

from harness.context import Batch

VISION = {"image_size": 32, "layers": 1, "width": 64, "patch_size": 16}
TEXT = {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 1}


def test_the_masked_loss_is_finite_under_fp16_autocast(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    model = open_clip.CLIP(embed_dim=32, vision_cfg=VISION, text_cfg=TEXT)
    monkeypatch.setattr(methods, "train_within_budget", lambda ctx, params, loss, **_: loss)
    ctx = type("Ctx", (), {"model": model})()
    loss = methods.delete(ctx, {"mask": "identity", "form": "paper"})
    texts = ["p1 a", "p1 b", "p2 a", "p3 a"]
    tokens = open_clip.get_tokenizer("ViT-B-16", context_length=16)(texts)
    batch = Batch(torch.randn(4, 3, 32, 32), tokens, texts, ["1", "1", "2", "3"], ["f"] * 4)
    with torch.autocast("cpu", dtype=torch.float16):
        value = loss(model, batch, None)
    assert value.dtype == torch.float32 and torch.isfinite(value)
    with torch.autocast("cpu", dtype=torch.float16):
        reference = methods.training.encode_pair(model, batch.images, batch.tokens)[0]
    assert reference.dtype == torch.float16  # the half-precision path is really taken
