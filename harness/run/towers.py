"""One model's image tower beside another's text tower: where in a CLIP model a change sits.

Evaluating an unlearned model's image tower with the original text tower (and the reverse)
shows which tower a method's effect on a metric comes from. Every weight under ``visual.``
comes from the image model; every other weight (the text tower, the token embeddings, the
logit scale and bias) from the text model. The two must share one architecture, checked
tensor by tensor. The towers of a trained pair are aligned with each other, so a swapped
tower also measures how far the two moved *together*: read the two hybrids as bounds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from harness.errors import CheckpointError
from harness.run.models import (
    LoadedModel,
    differing_tensors,
    load_clip,
    parameter_shapes,
    save_local_dir,
)

__all__ = ["PROVENANCE_FILE", "combine_towers"]

IMAGE_PREFIX = "visual."
PROVENANCE_FILE = "towers.json"


def combine_towers(
    image_source: str | os.PathLike[str],
    text_source: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    architecture: str | None = None,
) -> Path:
    """Save a ``local-dir:`` model with ``image_source``'s image tower and everything else from
    ``text_source``; ``towers.json`` beside the weights names both sources and their sha256.

    ``architecture`` is needed only for bare state-dict files. Raises ``CheckpointError``
    when the two models differ in any tensor's name or shape, or ``destination`` exists.
    """
    destination = Path(destination)
    if destination.exists():
        raise CheckpointError(
            f"{destination} already exists", "choose a new folder for the combined model"
        )
    image = load_clip(image_source, architecture)
    text = load_clip(text_source, architecture)
    _check_same_shapes(image, text)
    text_state = text.model.state_dict()
    combined = {
        name: tensor if name.startswith(IMAGE_PREFIX) else text_state[name]
        for name, tensor in image.model.state_dict().items()
    }
    image.model.load_state_dict(combined, strict=True)
    provenance = {
        "image_tower": _describe(image_source, image),
        "text_tower": _describe(text_source, text),
        "rule": f"weights under {IMAGE_PREFIX!r} from image_tower, all others from text_tower",
    }
    return save_local_dir(
        image.model,
        image.config,
        destination,
        extra_files={PROVENANCE_FILE: json.dumps(provenance, indent=2) + "\n"},
    )


def _check_same_shapes(image: LoadedModel, text: LoadedModel) -> None:
    differing = differing_tensors(parameter_shapes(image.model), parameter_shapes(text.model))
    if differing:
        shown = ", ".join(differing[:5]) + (
            f" (+{len(differing) - 5} more)" if len(differing) > 5 else ""
        )
        raise CheckpointError(
            f"the two models have different architectures; differing tensors: {shown}",
            "combine towers of models of one architecture (e.g. an unlearned model and the "
            "model it started from)",
        )


def _describe(source: str | os.PathLike[str], loaded: LoadedModel) -> dict[str, str]:
    return {"source": str(source), "weights": str(loaded.weights_path), "sha256": loaded.sha256}
