"""The shared training helpers: CLIP loss, optimizer groups, schedule, the guarded step."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from harness.errors import NonFiniteModelError
from harness.training import OptimizerStep, clip_loss, make_optimizer, warmup_cosine


def test_clip_loss_is_low_for_aligned_and_high_for_shuffled_pairs() -> None:
    emb = F.normalize(torch.eye(8), dim=1)
    assert clip_loss(emb, emb, 100.0) < 1e-3
    assert clip_loss(emb, emb.roll(1, 0), 100.0) > 50
    assert clip_loss(emb, emb, 0.0).item() == pytest.approx(math.log(8))


def test_no_weight_decay_on_biases_norms_embeddings() -> None:
    model = torch.nn.ModuleDict(
        {
            "token_embedding": torch.nn.Embedding(10, 4),
            "proj": torch.nn.Linear(4, 4),
            "ln": torch.nn.LayerNorm(4),
        }
    )
    groups = make_optimizer(model, 1e-3, weight_decay=0.1).param_groups
    assert [p.shape for p in groups[0]["params"]] == [(4, 4)]  # only the projection matrix
    assert len(groups[1]["params"]) == 4  # embedding, bias, norm weight and bias
    assert groups[0]["weight_decay"] == 0.1 and groups[1]["weight_decay"] == 0.0


def test_warmup_then_cosine_to_zero() -> None:
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=1.0)
    schedule = warmup_cosine(optimizer, total_steps=10, warmup_fraction=0.2)
    rates = []
    for _ in range(10):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert rates[0] == pytest.approx(0.5) and rates[1] == pytest.approx(1.0)
    assert rates[-1] < 0.05 and rates == sorted(rates[:2]) + sorted(rates[2:], reverse=True)


def test_step_counts_clips_and_refuses_non_finite_losses() -> None:
    model = torch.nn.Linear(2, 1)
    counted = []
    step = OptimizerStep(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        max_grad_norm=0.5,
        on_step=lambda: counted.append(1),
    )
    loss = (model(torch.ones(1, 2)) * 1000).sum()
    step(loss)
    assert step.steps == 1 and counted == [1]
    with pytest.raises(NonFiniteModelError, match="the loss became nan at step 2"):
        step(torch.tensor(float("nan"), requires_grad=True))
    assert step.steps == 1
