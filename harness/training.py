"""Training helpers shared by methods and by SALMU-mini's own model training.

Methods import these instead of copying them: the symmetric CLIP loss, an AdamW factory with
the usual no-decay groups, a warmup-cosine schedule, an optimizer step that is AMP-aware,
clips gradients, counts steps and stops on a non-finite loss, a frozen teacher copy, and
``train_within_budget``, the loop over forget and/or retain batches that most methods need.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import torch
import torch.nn.functional as F

from harness.errors import NonFiniteModelError

if TYPE_CHECKING:
    from harness.context import Batch, RunContext

AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}


def encode_pair(
    model: torch.nn.Module, images: torch.Tensor, tokens: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised image and text embeddings of a batch."""
    clip: Any = model  # an OpenCLIP model: encode_image, encode_text
    return (
        F.normalize(clip.encode_image(images), dim=-1),
        F.normalize(clip.encode_text(tokens), dim=-1),
    )


def logit_scale_of(model: torch.nn.Module) -> torch.Tensor:
    """The model's temperature exp(logit_scale), clamped at OpenCLIP's maximum of 100."""
    scale: torch.Tensor = cast(Any, model).logit_scale
    return scale.exp().clamp(max=100)


def clip_loss(image: torch.Tensor, text: torch.Tensor, scale: torch.Tensor | float) -> torch.Tensor:
    """Symmetric InfoNCE of aligned normalised pairs (row i of both is a positive pair)."""
    logits = scale * image @ text.T
    labels = torch.arange(len(image), device=image.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


def make_optimizer(
    model: torch.nn.Module,
    lr: float,
    weight_decay: float = 0.1,
    betas: tuple[float, float] = (0.9, 0.98),
    eps: float = 1e-6,
) -> torch.optim.AdamW:
    """AdamW with no weight decay on biases, norms, embeddings and the logit scale."""
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        exempt = parameter.ndim < 2 or "embedding" in name or "logit_scale" in name
        (no_decay if exempt else decay).append(parameter)
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    fused = all(p.device.type in ("cpu", "cuda") for p in decay + no_decay)
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps, fused=fused)


def warmup_cosine(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_fraction: float = 0.1
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup over ``warmup_fraction`` of the steps, then cosine decay to zero."""
    warmup = max(1, int(total_steps * warmup_fraction))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def freeze_logit_scale(model: torch.nn.Module) -> None:
    """Stop the temperature from moving (ascent losses would otherwise just shrink it)."""
    model.logit_scale.requires_grad_(False)


class OptimizerStep:
    """Backward + (unscale) + clip + step + schedule, refusing non-finite losses.

    ``precision`` bf16/fp16 enables autocast in ``autocast`` (fp16 with a grad scaler);
    fp32 runs as is. ``on_step`` is called after every successful step (e.g. to count it).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        precision: str = "fp32",
        max_grad_norm: float | None = 1.0,
        on_step: Callable[[], None] | None = None,
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.precision = precision
        self.max_grad_norm = max_grad_norm
        self.on_step = on_step
        self.steps = 0
        device = next(model.parameters()).device
        self.device_type = device.type
        self.scaler = torch.amp.GradScaler(self.device_type) if precision == "fp16" else None

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        """Mixed-precision context for the forward pass (no-op in fp32)."""
        dtype = AUTOCAST.get(self.precision)
        if dtype is None:
            yield
            return
        with torch.autocast(self.device_type, dtype=dtype):
            yield

    def __call__(self, loss: torch.Tensor) -> float:
        """Apply one optimizer step for ``loss``; return its value."""
        value = float(loss.detach())
        if not math.isfinite(value):
            raise NonFiniteModelError(
                f"the loss became {value} at step {self.steps + 1}",
                "lower the learning rate or enable gradient clipping; no model was saved",
            )
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            loss.backward()
        if self.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.max_grad_norm)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        self.steps += 1
        if self.on_step is not None:
            self.on_step()
        return value


def frozen_teacher(model: torch.nn.Module) -> torch.nn.Module:
    """A frozen copy of ``model`` in eval mode (the Compromised model, for distillation)."""
    teacher = copy.deepcopy(model).eval()
    for parameter in teacher.parameters():
        parameter.requires_grad_(False)
    return teacher


StepLoss = Callable[[torch.nn.Module, "Batch | None", "Batch | None"], torch.Tensor]

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
    """The JSON Schema of a fine-tuning method's parameters: the optimizer's plus ``extra``.

    The optimizer's are ``lr``, ``weight_decay``, ``batch_size`` and ``max_grad_norm``, as
    ``train_within_budget`` reads them. Methods that do not train use
    ``training_free_schema``.
    """
    return {
        "type": "object",
        "properties": {**COMMON_PARAMETERS, **extra},
        "additionalProperties": False,
    }


def training_free_schema(**properties: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a method that runs no optimizer: only ``properties``, nothing else.

    Use it instead of ``parameters_schema`` for methods that edit weights directly
    (dampening, pruning, task arithmetic): the optimizer's ``lr``, ``weight_decay``,
    ``batch_size`` and ``max_grad_norm`` would be accepted, recorded and mean nothing. Declare a
    batch size among ``properties`` if the method reads batches.
    """
    return {"type": "object", "properties": dict(properties), "additionalProperties": False}


def train_within_budget(
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
    freeze_logit_scale(model)
    batch = params["batch_size"]
    retain_batch = retain_batch_size or batch
    # the budget's rule: as many forget passes with or without retain batches beside them; a
    # retain-only method reads as many retain samples as the budget has forget samples
    if forget:
        total = ctx.budget.remaining_of("forget") // batch
        if retain:
            total = min(total, ctx.budget.remaining_of("retain") // retain_batch)
    else:
        total = ctx.budget.remaining_of("forget") // retain_batch
    total = max(1, total)
    optimizer = make_optimizer(model, params["lr"], params["weight_decay"])
    step = OptimizerStep(
        model,
        optimizer,
        warmup_cosine(optimizer, total),
        ctx.precision,
        params["max_grad_norm"],
    )
    forget_batches = ctx.forget.batches(batch, ctx.rng("forget-order")) if forget else None
    retain_batches = ctx.retain.batches(retain_batch, ctx.rng("retain-order")) if retain else None
    # torch.compile is opt-in (--compile): the compiled module shares the model's parameters
    forward_model: Any = torch.compile(model) if ctx.compile else model
    bar = ctx.progress(total, desc="unlearning")
    try:
        for _ in range(total):
            if (forget and not ctx.budget.allows(batch, "forget")) or (
                retain and not ctx.budget.allows(retain_batch, "retain")
            ):
                break
            f = _to(next(forget_batches, None), ctx.device) if forget_batches else None
            r = _to(next(retain_batches, None), ctx.device) if retain_batches else None
            if (forget and f is None) or (retain and r is None):
                break
            with step.autocast():
                loss = step_loss(forward_model, f, r)
            value = step(loss)
            ctx.step(value)  # counted, and passed to the reporters with its loss
            bar.set_postfix(loss=f"{value:.4f}", refresh=False)
            bar.update(1)
    finally:
        bar.close()
        for stream in (forget_batches, retain_batches):
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # stops the worker processes preparing batches ahead
    return model.eval()


def _to(batch: Batch | None, device: torch.device) -> Batch | None:
    if batch is None:
        return None
    batch.images = batch.images.to(device, non_blocking=True)
    batch.tokens = batch.tokens.to(device, non_blocking=True)
    return batch
