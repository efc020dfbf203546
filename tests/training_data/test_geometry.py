"""The training transform's split: a cacheable square, a per-sample crop, same draws."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T

from harness.training_data.draws import preserved_generator, reseed, sample_seed
from harness.training_data.geometry import SIDE_FACTOR, TrainGeometry, _span

MEAN, STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)


def _transform(size: int = 32, *extra: object) -> T.Compose:
    crop = T.RandomResizedCrop(size, scale=(0.9, 1.0), interpolation=T.InterpolationMode.BICUBIC)
    return T.Compose([crop, *extra, T.ToTensor(), T.Normalize(MEAN, STD)])


def _picture(width: int, height: int) -> Image.Image:
    """A smooth picture with structure everywhere (a wrong crop shows as a large error)."""
    y, x = np.mgrid[0:height, 0:width]
    red = 127 + 120 * np.sin(x / 9.0)
    green = 127 + 120 * np.cos(y / 7.0)
    blue = 255 * (x + y) / (width + height)
    return Image.fromarray(np.stack([red, green, blue], -1).astype(np.uint8))


def test_open_clips_training_transform_splits_and_others_do_not(mini_benchmark) -> None:
    from harness.run.models import load_clip

    loaded = load_clip(mini_benchmark.models["compromised"].path)
    geometry = TrainGeometry.split(loaded.preprocess_train)
    assert geometry is not None and geometry.crop.size == (32, 32)
    assert geometry.side == 37 == int(np.ceil(32 * SIDE_FACTOR))
    assert TrainGeometry.split(_transform(224)).side == 256
    assert TrainGeometry.split(_transform(32, T.ColorJitter(0.1))) is None  # an extra draw
    assert TrainGeometry.split(lambda image: image) is None
    nearest = T.RandomResizedCrop(32, interpolation=T.InterpolationMode.NEAREST)
    assert TrainGeometry.split(T.Compose([nearest, T.ToTensor(), T.Normalize(MEAN, STD)])) is None


def test_the_crop_is_the_transforms_own_draw_for_the_same_seed() -> None:
    transform = _transform(32)
    geometry = TrainGeometry.split(transform)
    assert geometry is not None
    image = _picture(120, 80)
    for slot in range(20):
        seed = sample_seed(0, "forget", "stream 0 batch 0", slot)
        with preserved_generator():
            top, left, h, w = geometry.box(seed, 120, 80)
            reseed(seed)
            exact = transform(image)
        crop = image.crop((left, top, left + w, top + h)).resize((32, 32), Image.Resampling.BICUBIC)
        assert torch.equal(exact, T.Normalize(MEAN, STD)(T.ToTensor()(crop)))


def test_cached_crops_are_close_to_the_exact_path_and_depend_only_on_the_seed() -> None:
    transform = _transform(32)
    geometry = TrainGeometry.split(transform)
    assert geometry is not None
    sizes = [(120, 80), (64, 64), (70, 100)]
    pictures = [_picture(w, h) for w, h in sizes]
    squares = torch.from_numpy(np.stack([geometry.cached_pixels(p) for p in pictures]))
    assert squares.shape == (3, 37, 37, 3) and squares.dtype == torch.uint8
    seeds = [sample_seed(3, "retain", "rows 0", slot) for slot in range(3)]
    before = torch.get_rng_state()
    crops = geometry.apply(squares, [0, 1, 2], np.array(sizes), seeds)
    assert torch.equal(torch.get_rng_state(), before)  # the process's generator is untouched
    assert torch.equal(crops, geometry.apply(squares, [0, 1, 2], np.array(sizes), seeds))
    images = geometry.normalise(crops)
    exact = []
    with preserved_generator():
        for picture, seed in zip(pictures, seeds, strict=True):
            reseed(seed)
            exact.append(transform(picture))
    difference = (images - torch.stack(exact)).abs() * torch.tensor(STD).view(1, 3, 1, 1) * 255
    assert float(difference.mean()) < 4.0  # uint8 levels: one extra resampling, same crop
    other = geometry.normalise(geometry.apply(squares, [0, 1, 2], np.array(sizes), seeds[::-1]))
    assert not torch.equal(other, images)


def test_normalise_is_to_tensor_then_normalize() -> None:
    geometry = TrainGeometry.split(_transform(8))
    assert geometry is not None
    pixels = torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8)
    expected = T.Normalize(MEAN, STD)(pixels.float() / 255)
    assert torch.allclose(geometry.normalise(pixels), expected, atol=1e-6)


@pytest.mark.parametrize(
    ("start", "length", "original", "side", "expected"),
    [(0, 100, 100, 37, (0, 37)), (10, 80, 100, 37, (4, 33)), (99, 1, 100, 37, (36, 37))],
)
def test_a_crop_maps_onto_the_square(start, length, original, side, expected) -> None:
    assert _span(start, length, original, side) == expected
