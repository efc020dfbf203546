"""The embedding-cone figures beside GenKnow."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from harness.builtin.salmubench.cone import embedding_cone


def test_evenly_spread_images_have_a_wide_cone_and_keep_their_accuracy() -> None:
    cone = embedding_cone(torch.eye(4), torch.eye(4), np.arange(4))
    assert cone["mean_image_norm"] == pytest.approx(0.5)  # |(1/4, 1/4, 1/4, 1/4)|
    assert cone["mean_class_norm"] == pytest.approx(0.5)
    assert cone["centred_accuracy"] == 1.0


def test_a_shifted_cone_loses_plain_accuracy_that_centring_gives_back() -> None:
    # every image is its own class direction plus a large common part along class 0
    common = 3 * F.one_hot(torch.tensor(0), 4).float()
    images = F.normalize(torch.eye(4) + common, dim=1)
    labels = np.arange(4)
    classifier = torch.eye(4)
    plain = ((images @ classifier).argmax(dim=1).numpy() == labels).mean()
    assert plain == 0.25  # every image is closest to class 0
    cone = embedding_cone(images, classifier, labels)
    assert cone["mean_image_norm"] == pytest.approx(0.9712, abs=1e-4)  # hand-computed
    assert cone["centred_accuracy"] == 1.0


def test_identical_images_make_a_closed_cone() -> None:
    images = F.normalize(torch.ones(3, 4), dim=1)
    cone = embedding_cone(images, torch.eye(4)[:, :3], np.array([0, 1, 2]))
    assert cone["mean_image_norm"] == pytest.approx(1.0)
