"""The standard baselines named by SALMUBench, as loss functions over the shared loop.

- finetune: CLIP loss on retain pairs only (forgetting by interference).
- neggrad: gradient ascent on the CLIP loss of forget pairs; ``retain_weight`` > 0 gives
  NegGrad+ (Kurmanji et al., NeurIPS 2023): w * L(retain) - (1 - w) * L(forget).
- shuffled-captions: CLIP loss of forget images against a derangement of their captions.
- direct-sim-min: minimise the cosine similarity of each forget pair.
- generic-captions: CLIP loss of forget images against their non-sensitive generic captions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from harness import Method, ParameterError, RunContext, training
from harness.context import Batch
from harness.training import parameters_schema, train_within_budget

VERSION = "0.2.0"


def _pair_loss(
    model: torch.nn.Module, batch: Batch, tokens: torch.Tensor | None = None
) -> torch.Tensor:
    image, text = training.encode_pair(
        model, batch.images, batch.tokens if tokens is None else tokens
    )
    return training.clip_loss(image, text, training.logit_scale_of(model))


def finetune(ctx: RunContext, params: dict[str, Any]) -> torch.nn.Module:
    return train_within_budget(
        ctx, params, lambda m, f, r: _pair_loss(m, r), forget=False, retain=True
    )


def neggrad(ctx: RunContext, params: dict[str, Any]) -> torch.nn.Module:
    weight = params["retain_weight"]
    if weight == 0:
        return train_within_budget(
            ctx, params, lambda m, f, r: -_pair_loss(m, f), forget=True, retain=False
        )
    return train_within_budget(
        ctx,
        params,
        lambda m, f, r: weight * _pair_loss(m, r) - (1 - weight) * _pair_loss(m, f),
        forget=True,
        retain=True,
    )


def shuffled_captions(ctx: RunContext, params: dict[str, Any]) -> torch.nn.Module:
    rng = ctx.rng("shuffled-captions")

    def loss(model: torch.nn.Module, f: Batch, r: Batch | None) -> torch.Tensor:
        order = _derangement_across_identities(f.identity_ids, rng)
        return _pair_loss(model, f, f.tokens[torch.from_numpy(order).to(f.tokens.device)])

    return train_within_budget(ctx, params, loss, forget=True, retain=False)


def direct_sim_min(ctx: RunContext, params: dict[str, Any]) -> torch.nn.Module:
    def loss(model: torch.nn.Module, f: Batch, r: Batch | None) -> torch.Tensor:
        image, text = training.encode_pair(model, f.images, f.tokens)
        return (image * text).sum(dim=1).mean()

    return train_within_budget(ctx, params, loss, forget=True, retain=False)


def generic_captions(ctx: RunContext, params: dict[str, Any]) -> torch.nn.Module:
    without = [n for n in ctx.forget.file_names if n not in ctx.generic_captions]
    rule = params["without_generic"]
    if without and rule == "refuse":
        raise ParameterError(
            f"{len(without)} of {len(ctx.forget)} forget rows have no generic caption "
            f"(first: {without[0]})",
            "set without_generic=skip to leave them out of the loss, or give the benchmark's "
            "sensitive_set_generic_captions.json",
        )
    if without:
        ctx.logger.warning(
            "%d of %d forget rows have no generic caption: %s",
            len(without),
            len(ctx.forget),
            "left out of the loss" if rule == "skip" else "trained on their own caption",
        )

    def loss(model: torch.nn.Module, f: Batch, r: Batch | None) -> torch.Tensor:
        keep = [
            i
            for i, name in enumerate(f.file_names)
            if rule == "sensitive" or name in ctx.generic_captions
        ]
        generic = [ctx.generic_captions.get(f.file_names[i], f.texts[i]) for i in keep]
        if not keep:  # every row lacks one: a zero loss that still reaches the parameters
            return _pair_loss(model, f) * 0
        image, text = training.encode_pair(
            model, f.images[keep], ctx.tokenizer(generic).to(f.tokens.device)
        )
        return training.clip_loss(image, text, training.logit_scale_of(model))

    return train_within_budget(ctx, params, loss, forget=True, retain=False)


def _derangement_across_identities(
    identities: list[str | None], rng: np.random.Generator
) -> np.ndarray:
    """A permutation moving every caption to an image of another identity where possible."""
    n = len(identities)
    order = rng.permutation(n)
    for i in range(n):
        if order[i] == i or (
            identities[order[i]] is not None and identities[order[i]] == identities[i]
        ):
            for j in rng.permutation(n):
                if identities[order[j]] != identities[i] and identities[order[i]] != identities[j]:
                    order[i], order[j] = order[j], order[i]
                    break
    return order


METHODS = (
    Method(
        name="finetune",
        description="Fine-tune on the retain split only; forgetting comes from interference.",
        version=VERSION,
        unlearn=finetune,
        parameters=parameters_schema(),
    ),
    Method(
        name="neggrad",
        description="Gradient ascent on the CLIP loss of forget pairs (NegGrad; NegGrad+ with "
        "retain_weight > 0).",
        version=VERSION,
        unlearn=neggrad,
        parameters=parameters_schema(
            retain_weight={
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "default": 0.0,
                "description": "NegGrad+ weight w of the retain loss (0 = plain "
                "NegGrad; SCRUB's NegGrad+ uses 0.95 on small data up to 0.9999 on large).",
            }
        ),
    ),
    Method(
        name="shuffled-captions",
        description="Train forget images against captions of other identities.",
        version=VERSION,
        unlearn=shuffled_captions,
        parameters=parameters_schema(),
    ),
    Method(
        name="direct-sim-min",
        description="Minimise the cosine similarity of every forget image-caption pair.",
        version=VERSION,
        unlearn=direct_sim_min,
        parameters=parameters_schema(),
    ),
    Method(
        name="generic-captions",
        description="Train forget images against their non-sensitive generic captions.",
        version=VERSION,
        unlearn=generic_captions,
        parameters=parameters_schema(
            without_generic={
                "enum": ["skip", "refuse", "sensitive"],
                "default": "skip",
                "description": "Forget rows without a generic caption: left out of the loss "
                "(skip), an error (refuse), or trained on their own sensitive caption "
                "(sensitive, which reinforces the association; the behaviour before 0.2.0).",
            }
        ),
    ),
)
