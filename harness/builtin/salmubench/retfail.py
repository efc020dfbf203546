"""1.1 RetFail: how well each forget image still retrieves its own caption from a gallery."""

from __future__ import annotations

import numpy as np
import torch

from harness.builtin.salmubench.gallery import draw_gallery, spread_forget_rows
from harness.builtin.salmubench.retrieval import (
    distractor_counts,
    pair_scores,
    ranks_from,
    reciprocal_rank_and_hit,
    text_codes,
)
from harness.evaluation.context import EvaluationContext
from harness.evaluation.statistics import bootstrap_ci_over_draws
from harness.metric import MetricOutcome


def retrieval_failure(ctx: EvaluationContext) -> MetricOutcome:
    """1.1 RetFail: MRR (headline) and R@1 of each forget image's caption in a 2,001 gallery."""
    choices = ctx.protocol.section("retfail")
    forget = ctx.benchmark.split("forget")
    disjoint = ctx.benchmark.split("retain_disjoint")
    gallery = draw_gallery(forget, disjoint, ctx.seed, choices)
    emb = ctx.embeddings("forget")
    retain_texts = [disjoint.texts[i] for i in gallery.retain_rows]
    retain_text = ctx.encode_texts(retain_texts)
    true_codes, forget_codes, retain_codes = text_codes(emb.texts, forget.texts, retain_texts)

    true = pair_scores(emb.image, emb.text)

    def counts(distractors: torch.Tensor, codes: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        return distractor_counts(
            emb.image,
            true,
            distractors,
            true_codes,
            codes,
            identical=choices["identical_distractors"],
            ties=choices["ties"],
        )

    retain_counts = counts(retain_text, retain_codes)  # every gallery's retain half

    def ranks_in(forget_rows: np.ndarray) -> np.ndarray:
        forget_counts = counts(emb.text[forget_rows], forget_codes[forget_rows])
        return ranks_from(choices["ties"], forget_counts, retain_counts)

    ranks = ranks_in(gallery.forget_rows)
    rr, hit = reciprocal_rank_and_hit(ranks)
    spread_rows = spread_forget_rows(len(forget), ctx.seed, choices)
    spread = [reciprocal_rank_and_hit(ranks_in(rows)) for rows in spread_rows]
    values = {"r_at_1": float(hit.mean())}
    intervals = {}
    if spread:
        mrr_per_gallery = [float(rr.mean())] + [float(s[0].mean()) for s in spread]
        values["gallery_std"] = float(np.std(mrr_per_gallery, ddof=1))
        intervals["value_with_gallery"] = bootstrap_ci_over_draws(
            np.stack([rr] + [s[0] for s in spread]),
            emb.identity_ids,
            ctx.settings.bootstrap,
            "1.1/value_with_gallery",
        )
    identical = true_codes[:, None] == forget_codes[gallery.forget_rows][None, :]
    same_persona = _same_identity(emb.identity_ids, gallery.forget_rows) & ~identical
    details = {
        "choices": dict(choices),
        "gallery_seed": gallery.seed,
        "gallery_sha256": gallery.sha256,
        "gallery_size": gallery.size,
        "forget_distractors": len(gallery.forget_rows),
        "retain_distractors": len(gallery.retain_rows),
        "mean_same_persona_distractors": float(same_persona.sum(1).mean()),
        "mean_identical_distractors": float(identical.sum(1).mean()),
    }
    if spread:
        details["spread"] = {
            "draws": len(spread),
            "seeds": [ctx.seed + k for k in range(1, len(spread) + 1)],
            "mrr": [round(float(s[0].mean()), 6) for s in spread],
            "r_at_1": [round(float(s[1].mean()), 6) for s in spread],
            "redrawn": "the forget distractors (the retain distractors stay the protocol "
            "gallery's: methods never read them)",
            "gallery_std": "sample std of the MRR over the protocol gallery and the draws",
        }
    return MetricOutcome(
        value=float(rr.mean()),
        values=values,
        per_row={"value": rr, "r_at_1": hit, "rank": ranks},
        groups=emb.identity_ids,
        details=details,
        intervals=intervals,
    )


def _same_identity(identity_ids: list[str | None], rows: np.ndarray) -> np.ndarray:
    """[N, len(rows)]: whether row i and forget row rows[j] show the same persona."""
    known = dict.fromkeys(x for x in identity_ids if x is not None)
    codes = {identity: k for k, identity in enumerate(known)}
    ids = np.array(
        [codes[i] if i is not None else -1 - n for n, i in enumerate(identity_ids)],
        dtype=np.int64,
    )
    return ids[:, None] == ids[rows][None, :]
