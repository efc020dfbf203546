"""Class names and prompt templates for a zero-shot set.

ImageNet-sized sets (1,000 classes) use open_clip's ImageNet class names and OpenAI's 80
templates, whatever their source ships: the classnames and templates of the CLIP_benchmark
ImageNet task, which the official evaluator uses, are the same. Other sets use their own names
(a ``ClassLabel`` feature, or ``classnames.txt``) and templates, or one plain template.
"""

from __future__ import annotations

from collections.abc import Sequence

IMAGENET_CLASSES = 1000
PLAIN_TEMPLATE = "a photo of a {}."


def resolve_prompts(
    classnames: Sequence[str] | None,
    templates: Sequence[str] | None,
    classes: int,
    where: str,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The class names and templates to use for a set of ``classes`` classes."""
    from harness.errors import BenchmarkError

    if classes == IMAGENET_CLASSES:
        from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES, OPENAI_IMAGENET_TEMPLATES

        return tuple(IMAGENET_CLASSNAMES), tuple(t("{}") for t in OPENAI_IMAGENET_TEMPLATES)
    if not classnames:
        raise BenchmarkError(
            f"the zero-shot set at {where} has {classes} classes and no class names",
            "give its labels a datasets ClassLabel feature (or a classnames.txt), "
            "or use a 1,000-class ImageNet set",
        )
    if len(classnames) < classes:
        raise BenchmarkError(
            f"the zero-shot set at {where} has labels up to {classes - 1} "
            f"but only {len(classnames)} class names"
        )
    chosen = tuple(t.replace("{c}", "{}") for t in templates or ()) or (PLAIN_TEMPLATE,)
    bad = [t for t in chosen if t.count("{}") != 1]
    if bad:
        raise BenchmarkError(
            f"template {bad[0]!r} of the zero-shot set at {where} needs exactly one {{}} "
            "(or {c}) for the class name"
        )
    return tuple(classnames), chosen
