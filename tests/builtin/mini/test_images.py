"""Portraits and scenes of SALMU-mini: variation per image, stable traits, captions."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from harness.builtin.mini.portraits import (
    BACKGROUNDS,
    SHIRT_COLOURS,
    PortraitTraits,
    draw_portrait,
    random_traits,
    trait_caption,
    trait_differences,
)
from harness.builtin.mini.scenes import (
    CLASSNAMES,
    COLOURS,
    SHAPES,
    ZERO_SHOT_TEMPLATES,
    _varied_background,
    class_index,
    draw_scene,
    scene_caption,
)

PERSONA_A = PortraitTraits("round", "light", "red", "short", "blue", "none", "yellow", "gray")
PERSONA_B = PortraitTraits("long", "dark", "black", "long", "brown", "glasses", "blue", "mint")


def nearest(colour: np.ndarray, palette: dict[str, tuple[int, int, int]]) -> str:
    """Palette entry closest to ``colour`` up to a brightness gain in [0.7, 1.35]."""
    best, best_distance = "", float("inf")
    for name, value in palette.items():
        p = np.asarray(value, dtype=float)
        gain = float(np.clip(colour @ p / max(p @ p, 1e-9), 0.7, 1.35))
        distance = float(np.linalg.norm(colour - gain * p))
        if distance < best_distance:
            best, best_distance = name, distance
    return best


def center_crop_32(image: Image.Image) -> np.ndarray:
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    crop = image.crop((left, top, left + side, top + side))
    return np.asarray(crop.resize((32, 32), Image.Resampling.BICUBIC), dtype=float)


def test_random_traits_differ_in_two_fields():
    rng = np.random.default_rng(0)
    drawn: list[PortraitTraits] = []
    for _ in range(200):
        drawn.append(random_traits(rng, drawn))
    for i, a in enumerate(drawn):
        for b in drawn[i + 1 :]:
            assert trait_differences(a, b) >= 2


def test_portrait_size_and_varied_aspect_ratio():
    rng = np.random.default_rng(1)
    ratios = []
    for _ in range(20):
        image, ratio = draw_portrait(PERSONA_A, rng, 64)
        assert image.mode == "RGB"
        assert max(image.size) == 64
        assert ratio == pytest.approx(image.size[0] / image.size[1])
        assert 0.58 <= ratio <= 1.42
        ratios.append(round(ratio, 2))
    assert len(set(ratios)) >= 10
    assert min(ratios) < 0.9 and max(ratios) > 1.1


def test_same_persona_images_vary_but_keep_their_traits():
    rng = np.random.default_rng(2)
    crops = []
    for traits in (PERSONA_A, PERSONA_B):
        for _ in range(6):
            image, _ = draw_portrait(traits, rng, 64)
            pixels = np.asarray(image, dtype=float)
            corner = pixels[:3, :3].reshape(-1, 3).mean(axis=0)
            bottom = pixels[-3:, image.size[0] // 2 - 1 : image.size[0] // 2 + 2]
            assert nearest(corner, BACKGROUNDS) == traits.background
            assert nearest(bottom.reshape(-1, 3).mean(axis=0), SHIRT_COLOURS) == traits.shirt_colour
            crops.append(center_crop_32(image))
    same = [np.abs(crops[i] - crops[i + 1]).mean() for i in range(5)]
    assert min(same) > 2.0  # every new image is a new draw, not a copy
    across = np.abs(crops[0] - crops[6]).mean()
    assert across > max(same)  # yet two personas differ more than two draws of one


def test_trait_caption_describes_traits_only():
    rng = np.random.default_rng(3)
    captions = {trait_caption(PERSONA_A, rng) for _ in range(60)}
    assert len(captions) >= 5
    for caption in captions:
        assert any(word in caption for word in ("red", "yellow", "gray", "light", "blue", "round"))
        assert " a yellow" in caption or "yellow" not in caption
    orange = PortraitTraits("oval", "tan", "black", "short", "gray", "hat", "orange", "pink")
    assert all(" a orange" not in trait_caption(orange, rng) for _ in range(40))


def test_classnames_and_templates():
    assert len(COLOURS) == 8 and len(SHAPES) == 6
    assert len(CLASSNAMES) == 48 == len(set(CLASSNAMES))
    for colour in COLOURS:
        for shape in SHAPES:
            assert CLASSNAMES[class_index(colour, shape)] == f"{colour} {shape}"
    assert all("{}" in template for template in ZERO_SHOT_TEMPLATES)
    assert "a photo of a {}." in ZERO_SHOT_TEMPLATES


def test_scene_drawing_and_caption():
    rng = np.random.default_rng(4)
    sizes = set()
    for shape in SHAPES:
        image, ratio = draw_scene("blue", shape, rng, 48)
        assert image.mode == "RGB" and max(image.size) == 48
        assert ratio == pytest.approx(image.size[0] / image.size[1])
        sizes.add(image.size)
        pixels = np.asarray(image, dtype=float)
        blue = (pixels[..., 2] > 120) & (pixels[..., 0] < 110) & (pixels[..., 1] < 140)
        assert blue.mean() > 0.03  # the object is visible
    assert len(sizes) >= 3
    captions = {scene_caption("red", "star", rng) for _ in range(60)}
    assert len(captions) == 6
    assert all("red" in c and "star" in c for c in captions)
    assert scene_caption("red", "star", rng, with_face=True).endswith("next to a small face")
    with pytest.raises(ValueError):
        draw_scene("teal", "circle", rng, 48)


def test_face_glyph_changes_the_scene():
    first, _ = draw_scene("green", "square", np.random.default_rng(5), 48)
    glyph, _ = draw_scene("green", "square", np.random.default_rng(5), 48, face=PERSONA_B)
    assert first.size == glyph.size
    assert np.abs(np.asarray(first, float) - np.asarray(glyph, float)).mean() > 1.0


def test_scene_backgrounds_vary_from_dark_to_light_and_contrast_with_the_object():
    rng = np.random.default_rng(8)
    corner_levels = []
    for index in range(60):
        image, _ = draw_scene(COLOURS[index % 8], SHAPES[index % 6], rng, 48)
        corner_levels.append(float(np.asarray(image, dtype=float)[:3, :3].mean()))
    assert min(corner_levels) < 80 and max(corner_levels) > 190
    red_level = 0.299 * 215 + 0.587 * 30 + 0.114 * 30
    for _ in range(40):
        canvas = np.asarray(_varied_background(rng, (40, 30), (215, 30, 30)), dtype=float)
        assert canvas.shape == (30, 40, 3)
        grey_levels = canvas.mean(axis=2)
        # tints of at most 14 per channel move a grey's mean by at most 14
        assert (np.abs(grey_levels - red_level) >= 70 - 14).all()


def test_scene_background_styles():
    rng = np.random.default_rng(3)
    kinds = set()
    for _ in range(60):
        grey = np.asarray(_varied_background(rng, (64, 48), (20, 20, 20)), dtype=float)[..., 0]
        rows_constant = bool((grey == grey[:, :1]).all())
        columns_constant = bool((grey == grey[:1, :]).all())
        distinct = len(np.unique(grey))
        if distinct == 1:
            kinds.add("plain")
        elif distinct == 2:
            kinds.add("stripes")  # two greys in bands along one axis
            assert rows_constant or columns_constant
        else:
            kinds.add("gradient")  # a monotone ramp along one axis
            assert rows_constant or columns_constant
            line = grey[:, 0] if rows_constant else grey[0, :]
            steps = np.diff(line)
            assert (steps >= 0).all() or (steps <= 0).all()
    assert kinds == {"plain", "stripes", "gradient"}
