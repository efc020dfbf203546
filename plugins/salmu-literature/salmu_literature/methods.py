"""The three literature methods, written as per-step losses over harness.training's loop.

Every term uses normalised embeddings; temperature-scaled logits (the Compromised model's
exp(logit_scale), frozen) appear only where a softmax does (InfoNCE, KL). The teacher is a
frozen copy of the Compromised model taken before training.

``form=fork`` (clip-erase, delete) is the task the SALMUBench authors' MultiDelete fork runs under
both names: the whole forget cosine matrix regressed onto zero (MSE), plus the retain cosine
matrix regressed onto the teacher's (and, for clip-erase, the unimodal retain embeddings onto
the teacher's). It reads retain data; ``form=paper`` (default) is the published method.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from harness import Method, RunContext, training
from harness.context import Batch
from harness.training import parameters_schema, train_within_budget

VERSION = "0.3.0"
MASK = -1e10


def _kl_rows(teacher_logits: torch.Tensor, student_logits: torch.Tensor) -> torch.Tensor:
    """KL(teacher || student) of row-wise softmaxes, averaged over rows."""
    return F.kl_div(
        F.log_softmax(student_logits, dim=1),
        F.softmax(teacher_logits, dim=1),
        reduction="batchmean",
    )


def _fork_terms(
    model: torch.nn.Module, teacher: torch.nn.Module, f: Batch, r: Batch
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The fork's terms: MSE(forget cosines, 0), MSE(retain cosines, the teacher's), and the
    unimodal MSE of the retain embeddings to the teacher's."""
    u_f, v_f = training.encode_pair(model, f.images, f.tokens)
    forget_cosines = u_f @ v_f.T
    forgetting = F.mse_loss(forget_cosines, torch.zeros_like(forget_cosines))
    with torch.no_grad():
        u0, v0 = training.encode_pair(teacher, r.images, r.tokens)
    u_r, v_r = training.encode_pair(model, r.images, r.tokens)
    retention = F.mse_loss(u_r @ v_r.T, u0 @ v0.T)
    unimodal = F.mse_loss(u_r, u0) + F.mse_loss(v_r, v0)
    return forgetting, retention, unimodal


def clip_erase(ctx: RunContext, params: dict[str, Any]) -> torch.nn.Module:
    """L = w_retain * InfoNCE(retain) + w_forget * mean cos(forget pairs) + w_consistency * KL
    (``form=paper``), or the fork's w_forget * MSE(forget cosines, 0) + w_retain *
    MSE(retain cosines, teacher's) + w_consistency * unimodal MSE to the teacher."""
    teacher = training.frozen_teacher(ctx.model)
    scale = training.logit_scale_of(teacher).detach()
    if params["form"] == "fork":

        def fork_loss(model: torch.nn.Module, f: Batch, r: Batch) -> torch.Tensor:
            forgetting, retention, unimodal = _fork_terms(model, teacher, f, r)
            return (
                params["forget_weight"] * forgetting
                + params["retain_weight"] * retention
                + params["consistency_weight"] * unimodal
            )

        return train_within_budget(ctx, params, fork_loss, forget=True, retain=True)

    def loss(model: torch.nn.Module, f: Batch, r: Batch) -> torch.Tensor:
        u_f, v_f = training.encode_pair(model, f.images, f.tokens)
        forgetting = (u_f * v_f).sum(dim=1).mean()
        u_r, v_r = training.encode_pair(model, r.images, r.tokens)
        student = scale * u_r @ v_r.T
        retention = training.clip_loss(u_r, v_r, scale)
        with torch.no_grad():
            u0, v0 = training.encode_pair(teacher, r.images, r.tokens)
            reference = scale * u0 @ v0.T
        consistency = _kl_rows(reference, student) + _kl_rows(reference.T, student.T)
        return (
            params["retain_weight"] * retention
            + params["forget_weight"] * forgetting
            + params["consistency_weight"] * consistency
        )

    return train_within_budget(ctx, params, loss, forget=True, retain=True)


def delete(ctx: RunContext, params: dict[str, Any]) -> torch.nn.Module:
    """KL between the student and the teacher's logits with the forget targets masked.

    Masking variant (``mask``): ``identity`` masks every caption of the image's own persona in
    the batch (the analogue of masking a whole forget class); ``pair`` masks only the image's
    own caption. Rows whose every candidate is masked are skipped. Only forget data is read.

    ``form=fork``: MSE(forget cosines, 0) + MSE(retain cosines, the teacher's), as the
    benchmark authors' fork runs it (``mask`` plays no part; retain data is read).
    """
    teacher = training.frozen_teacher(ctx.model)
    scale = training.logit_scale_of(teacher).detach()
    if params["form"] == "fork":

        def fork_loss(model: torch.nn.Module, f: Batch, r: Batch) -> torch.Tensor:
            forgetting, retention, _ = _fork_terms(model, teacher, f, r)
            return forgetting + retention

        return train_within_budget(ctx, params, fork_loss, forget=True, retain=True)

    def loss(model: torch.nn.Module, f: Batch, r: Batch | None) -> torch.Tensor:
        with torch.no_grad():
            u0, v0 = training.encode_pair(teacher, f.images, f.tokens)
            reference = scale * u0 @ v0.T
        masked = _forget_mask(f, params["mask"], reference.device)
        u, v = training.encode_pair(model, f.images, f.tokens)
        student = scale * u @ v.T
        terms = []
        # fp32 before masking: -1e10 does not fit in fp16 under autocast
        pairs = ((reference.float(), student.float(), masked),)
        pairs += ((reference.T.float(), student.T.float(), masked.T),)
        for ref, stu, mask in pairs:
            keep = ~mask.all(dim=1)
            if keep.any():
                terms.append(_kl_rows(ref.masked_fill(mask, MASK)[keep], stu[keep]))
        return torch.stack(terms).mean() if terms else student.sum() * 0

    return train_within_budget(ctx, params, loss, forget=True, retain=False)


def _forget_mask(batch: Batch, variant: str, device: torch.device) -> torch.Tensor:
    n = len(batch)
    if variant == "pair":
        return torch.eye(n, dtype=torch.bool, device=device)
    ids = batch.identity_ids
    same = [[ids[i] is not None and ids[i] == ids[j] for j in range(n)] for i in range(n)]
    return torch.tensor(same, device=device) | torch.eye(n, dtype=torch.bool, device=device)


def vlunlearn(ctx: RunContext, params: dict[str, Any]) -> torch.nn.Module:
    """Modality decoupling on forget pairs + multimodal and unimodal retention on retain pairs."""
    teacher = training.frozen_teacher(ctx.model)
    rng = ctx.rng("vlunlearn-derangement")

    def loss(model: torch.nn.Module, f: Batch, r: Batch) -> torch.Tensor:
        order = torch.from_numpy(rng.permutation(len(f)))
        while bool((order == torch.arange(len(f))).any()):
            order = torch.from_numpy(rng.permutation(len(f)))
        with torch.no_grad():
            u0_f, v0_f = training.encode_pair(teacher, f.images, f.tokens)
            unrelated = u0_f @ v0_f[order.to(v0_f.device)].T
            u0_r, v0_r = training.encode_pair(teacher, r.images, r.tokens)
            joint0 = F.normalize((u0_r + v0_r) / 2, dim=-1)
        u_f, v_f = training.encode_pair(model, f.images, f.tokens)
        similarity = u_f @ v_f.T
        decoupling = F.mse_loss(similarity, unrelated) + F.mse_loss(similarity.T, unrelated.T)
        u_r, v_r = training.encode_pair(model, r.images, r.tokens)
        multimodal = F.mse_loss(F.normalize((u_r + v_r) / 2, dim=-1), joint0)
        unimodal = F.mse_loss(u_r, u0_r) + F.mse_loss(v_r, v0_r)
        return decoupling + params["retention_weight"] * (multimodal + unimodal)

    retain_batch = params["batch_size"] * params["retain_ratio"]
    return train_within_budget(
        ctx, params, loss, forget=True, retain=True, retain_batch_size=retain_batch
    )


def _weight(default: float, description: str) -> dict[str, Any]:
    return {"type": "number", "minimum": 0, "default": default, "description": description}


FORM = {
    "enum": ["paper", "fork"],
    "default": "paper",
    "description": "paper: the published method; fork: the SALMUBench authors' MultiDelete "
    "fork (MSE of forget cosines to 0 + MSE of retain cosines to the teacher's; reads retain).",
}


METHODS = (
    Method(
        name="clip-erase",
        description="CLIPErase (Yang et al., ACL 2025): forgetting, retention and consistency "
        "modules.",
        version=VERSION,
        unlearn=clip_erase,
        parameters=parameters_schema(
            forget_weight=_weight(3.0, "Weight of the forgetting module (mean forget cosine)."),
            retain_weight=_weight(1.0, "Weight of the retention module (InfoNCE on retain)."),
            consistency_weight=_weight(3.0, "Weight of the consistency module (KL to teacher)."),
            form=FORM,
        ),
    ),
    Method(
        name="delete",
        description="DELETE (Zhou et al., CVPR 2025): distillation from the teacher's masked "
        "logits.",
        version=VERSION,
        unlearn=delete,
        parameters=parameters_schema(
            mask={
                "enum": ["identity", "pair"],
                "default": "identity",
                "description": "Mask all captions of the image's persona, or only its own.",
            },
            form=FORM,
        ),
    ),
    Method(
        name="vlunlearn",
        description="VLUnlearn (MultiDelete, Cheng & Amiri, ECCV 2024): modality decoupling + "
        "retention.",
        version=VERSION,
        unlearn=vlunlearn,
        parameters=parameters_schema(
            retention_weight=_weight(1.0, "Weight of the multimodal + unimodal retention terms."),
            retain_ratio={
                "type": "integer",
                "minimum": 1,
                "maximum": 8,
                "default": 1,
                "description": "Retain pairs per forget pair in a step (the fork reads 128 "
                "beside 16: 8).",
            },
        ),
    ),
)
