"""The training loop the baselines share: batches within the budget, one loss per step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from harness import RunContext, training
from harness.context import Batch

StepLoss = Callable[[torch.nn.Module, Batch | None, Batch | None], torch.Tensor]

COMMON_PARAMETERS: dict[str, Any] = {
    "lr": {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 1,
        "default": 1e-5,
        "description": "AdamW learning rate (warmup 10%, then cosine to 0).",
    },
    "weight_decay": {
        "type": "number",
        "minimum": 0,
        "default": 0.0,
        "description": "AdamW weight decay on matrices.",
    },
    "batch_size": {
        "type": "integer",
        "minimum": 2,
        "maximum": 4096,
        "default": 32,
        "description": "Forget (or retain, for retain-only methods) pairs per step.",
    },
    "max_grad_norm": {
        "type": "number",
        "exclusiveMinimum": 0,
        "default": 1.0,
        "description": "Gradient-norm clipping threshold.",
    },
}


def parameters_schema(**extra: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a baseline's parameters: the common ones plus ``extra``."""
    return {
        "type": "object",
        "properties": {**COMMON_PARAMETERS, **extra},
        "additionalProperties": False,
    }


def train(
    ctx: RunContext,
    params: dict[str, Any],
    step_loss: StepLoss,
    *,
    forget: bool,
    retain: bool,
    retain_batch_size: int | None = None,
) -> torch.nn.Module:
    """Optimise ``step_loss`` on forget and/or retain batches until the budget is spent."""
    model = ctx.model
    training.freeze_logit_scale(model)
    batch = params["batch_size"]
    retain_batch = retain_batch_size or batch
    per_step = (batch if forget else 0) + (retain_batch if retain else 0)
    total = max(1, ctx.budget.remaining // per_step)
    optimizer = training.make_optimizer(model, params["lr"], params["weight_decay"])
    step = training.OptimizerStep(
        model,
        optimizer,
        training.warmup_cosine(optimizer, total),
        ctx.precision,
        params["max_grad_norm"],
        on_step=ctx.step,
    )
    forget_batches = ctx.forget.batches(batch, ctx.rng("forget-order")) if forget else None
    retain_batches = ctx.retain.batches(retain_batch, ctx.rng("retain-order")) if retain else None
    bar = ctx.progress(total, desc="unlearning")
    for _ in range(total):
        if not ctx.budget.allows(per_step):
            break
        f = _to(next(forget_batches, None), ctx.device) if forget_batches else None
        r = _to(next(retain_batches, None), ctx.device) if retain_batches else None
        if (forget and f is None) or (retain and r is None):
            break
        with step.autocast():
            loss = step_loss(model, f, r)
        bar.set_postfix(loss=f"{step(loss):.4f}", refresh=False)
        bar.update(1)
    bar.close()
    return model.eval()


def _to(batch: Batch | None, device: torch.device) -> Batch | None:
    if batch is None:
        return None
    batch.images = batch.images.to(device, non_blocking=True)
    batch.tokens = batch.tokens.to(device, non_blocking=True)
    return batch
