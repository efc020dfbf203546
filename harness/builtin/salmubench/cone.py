"""How tightly a zero-shot set's image embeddings cluster: a diagnostic beside GenKnow.

A CLIP model's image embeddings of one domain sit in a cone around their mean. When the cone is
narrow, classes are told apart by small residuals around that mean, and any change that moves
the whole cone changes which class prompt every image is closest to. GenKnow stays plain
zero-shot top-1; these figures say how much of a change in it is such a shift:

- ``mean_image_norm``: norm of the mean unit image embedding (1 = all images alike, 0 = spread
  evenly);
- ``mean_class_norm``: the same for the class embeddings of the zero-shot classifier;
- ``centred_accuracy``: top-1 after subtracting each side's mean and renormalising.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def embedding_cone(
    images: torch.Tensor, classifier: torch.Tensor, labels: np.ndarray
) -> dict[str, float]:
    """Cone figures of unit ``images`` (rows) against a ``classifier`` (unit class columns)."""
    mean_image = images.mean(dim=0)
    mean_class = classifier.mean(dim=1, keepdim=True)
    centred_images = F.normalize(images - mean_image, dim=1)
    centred_classes = F.normalize(classifier - mean_class, dim=0)
    predicted = (centred_images @ centred_classes).argmax(dim=1).numpy()
    return {
        "mean_image_norm": float(mean_image.norm()),
        "mean_class_norm": float(mean_class.norm()),
        "centred_accuracy": float((predicted == np.asarray(labels)).mean()),
    }
