"""A training transform split in two: a cacheable resize, then a cheap per-sample crop.

open_clip's training transform is ``RandomResizedCrop -> RGB -> ToTensor -> Normalize``. The
random crop is drawn on the original image, so a fixed resize cannot be cached after it. The
split here caches each image stretched to a square of ``side`` pixels (``side`` = the output
size x 8/7: 256 for 224) with its original width and height kept beside it; a crop drawn in
the original's coordinates (by the transform's own ``get_params``, same draws as the exact
path) is mapped onto the square and resized to the output with the transform's interpolation
(antialiased, on uint8 channels-last tensors: torch's fast path). The pixels differ from the
per-image PIL path by one extra resampling; docs/performance.md gives the measured difference.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.transforms import InterpolationMode, Normalize, RandomResizedCrop, ToTensor

from harness.training_data.draws import preserved_generator, reseed

#: the cached square's side over the output side (256 for 224, the classic resize-then-crop)
SIDE_FACTOR = 8 / 7
#: PIL's filter for the cached resize, and torch's mode for the crop, per interpolation
PIL_FILTERS = {
    InterpolationMode.BICUBIC: Image.Resampling.BICUBIC,
    InterpolationMode.BILINEAR: Image.Resampling.BILINEAR,
}
TORCH_MODES = {InterpolationMode.BICUBIC: "bicubic", InterpolationMode.BILINEAR: "bilinear"}


@dataclass(frozen=True)
class TrainGeometry:
    """The cacheable part of a training transform and the per-sample rest."""

    crop: RandomResizedCrop
    """The transform's random crop (its scale, ratio, size and interpolation)."""
    side: int
    """The side of the cached square."""
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def split(cls, preprocess: Any) -> TrainGeometry | None:
        """The split of ``preprocess``, or None when it is not ``RandomResizedCrop -> (RGB)
        -> ToTensor -> Normalize`` with a bilinear or bicubic crop (then the exact path runs)."""
        steps = list(getattr(preprocess, "transforms", []))
        if len(steps) < 3 or not isinstance(steps[0], RandomResizedCrop):
            return None
        crop, *middle, to_tensor, normalize = steps
        if not isinstance(to_tensor, ToTensor) or not isinstance(normalize, Normalize):
            return None
        if not all(_converts_to_rgb(step) for step in middle):
            return None
        if crop.interpolation not in TORCH_MODES or not crop.antialias:
            return None
        out = max(crop.size)
        return cls(
            crop=crop,
            side=math.ceil(out * SIDE_FACTOR),
            mean=tuple(float(v) for v in normalize.mean),
            std=tuple(float(v) for v in normalize.std),
        )

    @property
    def description(self) -> str:
        """What makes two geometries the same cache entry (and what results record)."""
        crop = self.crop
        return json.dumps(
            {
                "cached": f"stretched to {self.side}x{self.side}, {crop.interpolation.value}",
                "crop": {
                    "size": list(crop.size),
                    "scale": list(crop.scale),
                    "ratio": [round(r, 6) for r in crop.ratio],
                    "interpolation": crop.interpolation.value,
                },
            },
            sort_keys=True,
        )

    def cached_pixels(self, image: Image.Image) -> np.ndarray:
        """One image as the uint8 ``[side, side, 3]`` array that is cached."""
        square = image.convert("RGB").resize(
            (self.side, self.side), PIL_FILTERS[self.crop.interpolation]
        )
        return np.array(square, dtype=np.uint8)  # a writable copy (torch shares it)

    def box(self, seed: int, width: int, height: int) -> tuple[int, int, int, int]:
        """The crop (top, left, height, width) on a ``width x height`` original, drawn by the
        transform's own ``get_params`` with torch's CPU generator seeded by ``seed`` (call it
        inside ``draws.preserved_generator``)."""
        shaped = torch.empty(1, 1, 1).expand(3, height, width)
        reseed(seed)
        top, left, h, w = self.crop.get_params(shaped, self.crop.scale, self.crop.ratio)
        return int(top), int(left), int(h), int(w)

    def apply(
        self,
        squares: torch.Tensor,
        rows: Sequence[int],
        sizes: np.ndarray,
        seeds: Sequence[int],
        out: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The uint8 ``[n, 3, H, W]`` crops of ``rows`` of the cached ``[rows, side, side, 3]``
        ``squares``, given their originals' (width, height) and each sample's seed; written
        into ``out`` when given (e.g. shared memory). ``normalise`` makes them float."""
        out_h, out_w = self.crop.size
        mode = TORCH_MODES[self.crop.interpolation]
        crops = (
            torch.empty((len(seeds), 3, out_h, out_w), dtype=torch.uint8) if out is None else out
        )
        with preserved_generator():
            for k, (row, seed) in enumerate(zip(rows, seeds, strict=True)):
                width, height = int(sizes[row][0]), int(sizes[row][1])
                top, left, h, w = self.box(seed, width, height)
                y0, y1 = _span(top, h, height, self.side)
                x0, x1 = _span(left, w, width, self.side)
                view = squares[row, y0:y1, x0:x1].permute(2, 0, 1).unsqueeze(0)  # channels-last
                crops[k] = F.interpolate(view, size=(out_h, out_w), mode=mode, antialias=True)[0]
        return crops

    def normalise(self, pixels: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """``ToTensor`` then ``Normalize`` of a uint8 batch, on the batch's device (into the
        float tensor ``out`` when given): a conversion and two in-place passes (each correctly
        rounded, so a GPU gives the CPU's bits; twice as fast as one mixed-dtype multiply)."""
        std = torch.tensor(self.std, device=pixels.device).view(1, -1, 1, 1)
        mean = torch.tensor(self.mean, device=pixels.device).view(1, -1, 1, 1)
        images = pixels.to(torch.float32) if out is None else out.copy_(pixels)
        return images.mul_(1 / (255 * std)).sub_(mean / std)


def _span(start: int, length: int, original: int, side: int) -> tuple[int, int]:
    """A crop's [start, start + length) on an axis of ``original`` pixels, on the square."""
    low = round(start * side / original)
    high = round((start + length) * side / original)
    low = min(low, side - 1)
    return low, max(high, low + 1)


def _converts_to_rgb(step: Any) -> bool:
    name = getattr(step, "__name__", None) or type(step).__name__
    return name in ("_convert_to_rgb", "MaybeConvertMode") and getattr(step, "mode", "RGB") == "RGB"
