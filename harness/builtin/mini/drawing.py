"""Drawing primitives shared by portraits and scenes: canvas sizes, colour jitter, and the
finishing pass (downsampling, brightness, a lighting gradient, pixel noise)."""

from __future__ import annotations

from typing import cast

import numpy as np
from PIL import Image

RGB = tuple[int, int, int]


def canvas_size(rng: np.random.Generator, longest_side: int) -> tuple[int, int]:
    """Draw an aspect ratio in [0.6, 1.4] and return ``(width, height)`` for ``longest_side``."""
    ratio = float(rng.uniform(0.6, 1.4))
    if ratio >= 1.0:
        return longest_side, max(1, round(longest_side / ratio))
    return max(1, round(longest_side * ratio)), longest_side


def jitter_colour(colour: RGB, rng: np.random.Generator, amount: int) -> RGB:
    """``colour`` with each channel shifted by a uniform integer in [-amount, amount]."""
    delta = rng.integers(-amount, amount + 1, size=3)
    return cast(
        RGB, tuple(int(min(255, max(0, c + d))) for c, d in zip(colour, delta, strict=True))
    )


def darker(colour: RGB, factor: float) -> RGB:
    """``colour`` with every channel scaled by ``factor``."""
    return cast(RGB, tuple(int(c * factor) for c in colour))


def finish_image(
    canvas: Image.Image,
    size: tuple[int, int],
    rng: np.random.Generator,
    brightness: tuple[float, float] = (0.82, 1.18),
    noise: tuple[float, float] = (2.0, 7.0),
) -> Image.Image:
    """Downsample a supersampled canvas and apply brightness, a lighting gradient and noise."""
    small = canvas.resize(size, Image.Resampling.BOX)
    pixels = np.asarray(small, dtype=np.float32)
    width, height = size
    gain = float(rng.uniform(*brightness))
    tilt_x, tilt_y = rng.uniform(-0.18, 0.18, size=2)
    ramp_x = tilt_x * (np.arange(width, dtype=np.float32) / max(1, width - 1) - 0.5)
    ramp_y = tilt_y * (np.arange(height, dtype=np.float32) / max(1, height - 1) - 0.5)
    light = gain * (1.0 + ramp_y[:, None] + ramp_x[None, :])
    sigma = float(rng.uniform(*noise))
    pixels = pixels * light[:, :, None] + rng.normal(0.0, sigma, size=pixels.shape)
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), mode="RGB")
