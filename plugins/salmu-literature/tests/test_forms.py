"""The fork forms of clip-erase and delete, and VLUnlearn's retain ratio, on a tiny CLIP."""

from __future__ import annotations

from typing import Any

import open_clip
import pytest
import torch
from salmu_literature import methods

from harness.context import Batch

VISION = {"image_size": 32, "layers": 1, "width": 64, "patch_size": 16}
TEXT = {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 1}
TOKENIZE = open_clip.get_tokenizer("ViT-B-16", context_length=16)


def _batch(texts: list[str], seed: int) -> Batch:
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(len(texts), 3, 32, 32, generator=generator)
    return Batch(images, TOKENIZE(texts), texts, [str(i) for i in range(len(texts))], ["f"] * 4)


def _captured(monkeypatch: pytest.MonkeyPatch, method: Any, params: dict[str, Any]) -> dict:
    torch.manual_seed(0)
    model = open_clip.CLIP(embed_dim=32, vision_cfg=VISION, text_cfg=TEXT)
    seen: dict[str, Any] = {"model": model}

    def capture(ctx: Any, params: Any, loss: Any, **kwargs: Any) -> Any:
        seen.update(loss=loss, **kwargs)
        return model

    monkeypatch.setattr(methods, "train_within_budget", capture)
    method(type("Ctx", (), {"model": model})(), params)
    return seen


FORGET = ["alice has diabetes", "bob lives in paris", "carol is 41", "dan votes green"]
RETAIN = ["a red square", "two blue circles", "a green triangle", "a yellow star"]


@pytest.mark.parametrize("name", ["clip-erase", "delete"])
def test_the_fork_form_is_the_forget_cosines_mse_to_zero_and_reads_retain(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    params = {"forget_weight": 3.0, "retain_weight": 1.0, "consistency_weight": 3.0}
    method = methods.clip_erase if name == "clip-erase" else methods.delete
    seen = _captured(monkeypatch, method, {**params, "mask": "identity", "form": "fork"})
    assert seen["forget"] and seen["retain"]
    model, f, r = seen["model"], _batch(FORGET, 1), _batch(RETAIN, 2)
    with torch.no_grad():
        value = seen["loss"](model, f, r)
        image, text = methods.training.encode_pair(model, f.images, f.tokens)
    # the student still equals the teacher: both retain terms are zero
    weight = 3.0 if name == "clip-erase" else 1.0
    expected = weight * ((image @ text.T) ** 2).mean()
    assert float(value) == pytest.approx(float(expected), rel=1e-6)
    assert float(expected) > 0


def test_the_fork_form_pulls_the_retain_cosines_back_to_the_teacher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = _captured(monkeypatch, methods.delete, {"mask": "identity", "form": "fork"})
    model, f, r = seen["model"], _batch(FORGET, 1), _batch(RETAIN, 2)
    with torch.no_grad():
        before = float(seen["loss"](model, f, r))
        model.visual.conv1.weight.mul_(1.5)  # the student drifts from the teacher
        after = float(seen["loss"](model, f, r))
        image, text = methods.training.encode_pair(model, f.images, f.tokens)
    forgetting = float(((image @ text.T) ** 2).mean())
    assert after - forgetting > 1e-6  # the retain MSE is no longer zero
    assert before != after


def test_the_paper_form_of_delete_reads_forget_only(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _captured(monkeypatch, methods.delete, {"mask": "identity", "form": "paper"})
    assert seen["forget"] and not seen["retain"]


@pytest.mark.parametrize("ratio", [1, 8])
def test_vlunlearn_reads_its_retain_ratio_beside_each_forget_batch(
    monkeypatch: pytest.MonkeyPatch, ratio: int
) -> None:
    params = {"batch_size": 16, "retain_ratio": ratio, "retention_weight": 1.0}
    monkeypatch.setattr(methods, "train_within_budget", lambda ctx, p, loss, **kw: kw)
    model = open_clip.CLIP(embed_dim=32, vision_cfg=VISION, text_cfg=TEXT)
    ctx = type("Ctx", (), {"model": model, "rng": lambda self, purpose: None})()
    kwargs = methods.vlunlearn(ctx, params)
    assert kwargs == {"forget": True, "retain": True, "retain_batch_size": 16 * ratio}
