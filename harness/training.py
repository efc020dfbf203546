"""Training helpers shared by methods and by SALMU-mini's own model training.

Methods import these instead of copying them: the symmetric CLIP loss, an AdamW factory with
the usual no-decay groups, a warmup-cosine schedule, and an optimizer step that is AMP-aware,
clips gradients, counts steps and stops on a non-finite loss.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F

from harness.errors import NonFiniteModelError

AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}


def encode_pair(
    model: torch.nn.Module, images: torch.Tensor, tokens: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised image and text embeddings of a batch."""
    return (
        F.normalize(model.encode_image(images), dim=-1),
        F.normalize(model.encode_text(tokens), dim=-1),
    )


def logit_scale_of(model: torch.nn.Module) -> torch.Tensor:
    """The model's temperature exp(logit_scale), clamped at OpenCLIP's maximum of 100."""
    return model.logit_scale.exp().clamp(max=100)


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
    decay, no_decay = [], []
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

    ``precision`` bf16/fp16 enables autocast in :meth:`autocast` (fp16 with a grad scaler);
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
