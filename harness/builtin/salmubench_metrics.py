"""The SALMUBench metric suite (keys 1.1-2.5), registered as a built-in plugin.

Each metric documents the choices the public record leaves open; docs/metrics.md explains them
at length. Efficacy metrics (1.x) aim at the Clean model, utility metrics (2.x) at Compromised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import open_clip
import torch

from harness.benchmarks.base import ATTRIBUTE_KEYS
from harness.builtin.probe import probe_correctness
from harness.builtin.retrieval import gallery_ranks, reciprocal_rank_and_hit
from harness.evaluation import EvaluationContext
from harness.gallery import draw_gallery
from harness.hookspecs import hookimpl
from harness.metric import Metric, MetricOutcome, SkipMetric

IDZSC_TEMPLATE = "a photo of {name}."
#: caption data_field -> key of identities_metadata.json (the first three are confirmed public)
FIELD_KEYS = {
    "city": "city",
    "job": "job",
    "blood_type": "blood_type",
    "phone_number": "phone_number",
    "phone": "phone_number",
    "email": "emails",
    "emails": "emails",
    "iban": "iban",
    "credit_card": "credit_card",
    "passport": "passport",
}


def retrieval_failure(ctx: EvaluationContext) -> MetricOutcome:
    """1.1 RetFail: MRR (headline) and R@1 of each forget image's caption in a 2,001 gallery."""
    forget = ctx.benchmark.split("forget")
    disjoint = ctx.benchmark.split("retain_disjoint")
    gallery = draw_gallery(forget, disjoint, ctx.seed)
    emb = ctx.embeddings("forget")
    retain_texts = [disjoint.texts[i] for i in gallery.retain_rows]
    distractor_texts = [forget.texts[i] for i in gallery.forget_rows] + retain_texts
    distractors = torch.cat([emb.text[gallery.forget_rows], ctx.encode_texts(retain_texts)])
    true_texts = np.array(emb.texts, dtype=object)
    excluded = torch.from_numpy(true_texts[:, None] == np.array(distractor_texts, dtype=object))
    ranks = gallery_ranks(emb.image, emb.text, distractors, excluded)
    rr, hit = reciprocal_rank_and_hit(ranks)
    ids = np.array(emb.identity_ids, dtype=object)
    same_persona = (ids[:, None] == ids[gallery.forget_rows][None, :]).sum(1) - excluded[
        :, : len(gallery.forget_rows)
    ].numpy().sum(1)
    return MetricOutcome(
        value=float(rr.mean()),
        values={"r_at_1": float(hit.mean())},
        per_row={"value": rr, "r_at_1": hit, "rank": ranks},
        groups=emb.identity_ids,
        details={
            "gallery_seed": gallery.seed,
            "gallery_sha256": gallery.sha256,
            "gallery_size": gallery.size,
            "forget_distractors": len(gallery.forget_rows),
            "retain_distractors": len(gallery.retain_rows),
            "mean_same_persona_distractors": float(same_persona.mean()),
            "identical_captions": "distractors whose text equals the true caption are left out "
            "of that image's gallery (they include the image's own row when drawn)",
            "ties": "a distractor scoring exactly the true caption's similarity counts half a rank",
            "mean_excluded_identical": float(excluded.numpy().sum(1).mean()),
        },
    )


def pair_similarity(split: str) -> Callable[[EvaluationContext], MetricOutcome]:
    """Mean cosine similarity of each image with its own caption on ``split``."""

    def compute(ctx: EvaluationContext) -> MetricOutcome:
        emb = ctx.embeddings(split)
        if not emb.texts:
            raise SkipMetric(f"split {split!r} has no rows in this benchmark")
        sims = emb.pair_similarities().numpy().astype(np.float64)
        groups = emb.identity_ids if any(g is not None for g in emb.identity_ids) else None
        return MetricOutcome(
            value=float(sims.mean()),
            per_row={"value": sims},
            groups=groups,
            details={"split": split, "rows": len(sims)},
        )

    return compute


def association_probe(ctx: EvaluationContext) -> MetricOutcome:
    """1.3 ACS: out-of-fold accuracy of a probe telling true forget pairs from deranged ones."""
    emb = ctx.embeddings("forget")
    if len(emb.texts) < 4:
        raise SkipMetric("the forget split has fewer than 4 rows")
    correct, groups, protocol = probe_correctness(
        emb.image.numpy(), emb.text.numpy(), emb.identity_ids, ctx.rng("acs-derangement")
    )
    return MetricOutcome(
        value=float(correct.mean()),
        per_row={"value": correct},
        groups=list(groups),
        details={**protocol, "seed": ctx.seed, "samples": len(correct)},
    )


def identity_zero_shot(ctx: EvaluationContext) -> MetricOutcome:
    """1.4 IdZSC: zero-shot top-1 of forget_identity images among their identities' names."""
    emb = ctx.embeddings("forget_identity")
    identities = sorted({i for i in emb.identity_ids if i is not None})
    if len(identities) < 2:
        raise SkipMetric("forget_identity holds fewer than two identities")
    people = ctx.metadata["identities"]
    prompts = [IDZSC_TEMPLATE.format(name=people[i]["name"]) for i in identities]
    classifier = ctx.encode_texts(prompts)
    predicted = (emb.image @ classifier.T).argmax(dim=1).numpy()
    index = {identity: k for k, identity in enumerate(identities)}
    truth = np.array([index[i] for i in emb.identity_ids])
    correct = (predicted == truth).astype(np.float64)
    return MetricOutcome(
        value=float(correct.mean()),
        per_row={"value": correct},
        groups=emb.identity_ids,
        details={
            "template": IDZSC_TEMPLATE,
            "classes": len(identities),
            "chance": 1 / len(identities),
        },
    )


def core_association(ctx: EvaluationContext) -> MetricOutcome:
    """1.5 CoreAssoc: per forget row, max cos(image, "{name} {value}"/"{value} {name}"); mean."""
    emb = ctx.embeddings("forget")
    people, captions = ctx.metadata["identities"], ctx.metadata["captions"]
    rows, first, second = [], [], []
    for row, (identity, file_name, text) in enumerate(
        zip(emb.identity_ids, emb.file_names, emb.texts, strict=True)
    ):
        person = people.get(identity or "", {})
        value = attribute_value(person, captions.get(file_name, {}).get("data_field"), text)
        if value is None:
            continue
        rows.append(row)
        first.append(f"{person['name']} {value}")
        second.append(f"{value} {person['name']}")
    if not rows:
        raise SkipMetric("no forget row could be matched to an attribute value in the metadata")
    image = emb.image[rows]
    sims = (
        torch.maximum(
            (image * ctx.encode_texts(first)).sum(1), (image * ctx.encode_texts(second)).sum(1)
        )
        .numpy()
        .astype(np.float64)
    )
    return MetricOutcome(
        value=float(sims.mean()),
        per_row={"value": sims},
        groups=[emb.identity_ids[r] for r in rows],
        details={
            "rows_matched": len(rows),
            "rows_unmatched": len(emb.texts) - len(rows),
            "texts": ["{name} {value}", "{value} {name}"],
        },
    )


def attribute_value(person: dict[str, Any], data_field: str | None, caption: str) -> str | None:
    """The attribute value a caption states: by its data_field, else whichever value it quotes."""
    keys = [FIELD_KEYS[data_field]] if data_field in FIELD_KEYS else list(ATTRIBUTE_KEYS)
    for key in keys:
        value = person.get(key)
        for candidate in value if isinstance(value, list) else [value]:
            if isinstance(candidate, str) and candidate and candidate in caption:
                return candidate
    return None


def general_knowledge(ctx: EvaluationContext) -> MetricOutcome:
    """2.1 GenKnow: zero-shot top-1 on the benchmark's classification set (ImageNet-1k val)."""
    genknow = ctx.benchmark.genknow
    if genknow is None:
        raise SkipMetric(ctx.benchmark.genknow_skip_reason or "no zero-shot set is configured")
    engine = ctx.engine
    with torch.inference_mode():
        classifier = (
            open_clip.build_zero_shot_classifier(
                engine.model,
                engine.tokenizer,
                list(genknow.classnames),
                list(genknow.templates),
                num_classes_per_batch=50,
                device=engine.device,
            )
            .float()
            .cpu()
        )
    images = engine.images(
        genknow.dataset,
        desc=f"{engine.label}: {genknow.name}",
        content_sha256=genknow.sha256 if engine.image_cache is not None else None,
    )
    predicted = (images @ classifier).argmax(dim=1).numpy()
    correct = (predicted == np.array(genknow.dataset["label"])).astype(np.float64)
    return MetricOutcome(
        value=float(correct.mean()),
        per_row={"value": correct},
        details={
            "set": genknow.name,
            "classes": len(genknow.classnames),
            "templates": len(genknow.templates),
            "chance": 1 / len(genknow.classnames),
            "images": len(correct),
        },
    )


def _similarity_metric(key: str, name: str, split: str, group: str, description: str) -> Metric:
    return Metric(
        key=key,
        name=name,
        description=description,
        splits=(split,),
        direction="lower" if group == "efficacy" else "higher",
        target="clean" if group == "efficacy" else "compromised",
        version="1",
        compute=pair_similarity(split),
        group=group,  # type: ignore[arg-type]
        bounds=(-1.0, 1.0),
    )


METRICS = (
    Metric(
        "1.1",
        "RetFail",
        "Mean reciprocal rank (and R@1) of each forget image's true caption "
        "in a seeded 2,001-caption gallery.",
        ("forget", "retain_disjoint"),
        "lower",
        "clean",
        "1",
        retrieval_failure,
        "efficacy",
        (0.0, 1.0),
    ),
    _similarity_metric(
        "1.2",
        "AssocStr",
        "forget",
        "efficacy",
        "Mean cosine similarity of forget images with their sensitive captions.",
    ),
    Metric(
        "1.3",
        "ACS",
        "Accuracy of a logistic-regression probe telling true forget pairs from "
        "deranged ones (0.5 = chance).",
        ("forget",),
        "lower",
        "clean",
        "1",
        association_probe,
        "efficacy",
        (0.0, 1.0),
    ),
    Metric(
        "1.4",
        "IdZSC",
        "Zero-shot identification of forget_identity images among their identities' names.",
        ("forget_identity",),
        "lower",
        "clean",
        "1",
        identity_zero_shot,
        "efficacy",
        (0.0, 1.0),
    ),
    Metric(
        "1.5",
        "CoreAssoc",
        "Mean over forget rows of the image's best similarity to "
        "'{name} {value}' or '{value} {name}'.",
        ("forget",),
        "lower",
        "clean",
        "1",
        core_association,
        "efficacy",
        (-1.0, 1.0),
    ),
    Metric(
        "2.1",
        "GenKnow",
        "Zero-shot top-1 accuracy on the benchmark's classification set "
        "(ImageNet-1k val; SALMU-mini's shapes).",
        (),
        "higher",
        "compromised",
        "1",
        general_knowledge,
        "utility",
        (0.0, 1.0),
    ),
    _similarity_metric(
        "2.2",
        "InterIdSim",
        "holdout_identity",
        "utility",
        "Mean image-caption similarity on personas never shown to the method.",
    ),
    _similarity_metric(
        "2.3",
        "IntraIdSim",
        "holdout_association",
        "utility",
        "Mean image-caption similarity on the kept attributes of forgotten personas.",
    ),
    _similarity_metric(
        "2.4",
        "VisIdInt",
        "retain_joint",
        "utility",
        "Mean similarity of forgotten personas' images with non-sensitive captions.",
    ),
    _similarity_metric(
        "2.5",
        "FragSim",
        "fragile_set",
        "utility",
        "Mean image-caption similarity on the fragile set of retain_disjoint.",
    ),
)


@hookimpl
def register_metrics(register: Callable[[Metric], None]) -> None:
    for metric in METRICS:
        register(metric)
