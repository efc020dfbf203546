"""The generic visual domain of SALMU-mini: coloured shapes on varied grey backgrounds.

These scenes play the roles that DataComp (generic pretraining and ``retain_disjoint`` pairs)
and ImageNet (the GenKnow zero-shot test) play in SALMUBench: 8 colours x 6 shapes give the 48
classes of ``CLASSNAMES`` (colour-major order, so class ``i`` is
``COLOURS[i // 6]`` + ``SHAPES[i % 6]``).

Each ``draw_scene`` call varies the aspect ratio, the background (a plain, gradient or
striped grey of any level that contrasts with the object), the object's position, size,
rotation and colour shade, brightness, lighting and pixel noise. The object is kept inside the
central square of the canvas so that a center crop never cuts it off. Optionally a small
face-like glyph (in a given persona's skin and hair colours) is drawn next to the object: the
fragile set of SALMU-mini is made of such scenes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from harness.builtin.mini.drawing import canvas_size, finish_image, jitter_colour
from harness.builtin.mini.portraits import PortraitTraits, draw_head, fix_articles

__all__ = [
    "CLASSNAMES",
    "COLOURS",
    "SHAPES",
    "ZERO_SHOT_TEMPLATES",
    "SceneLayout",
    "caption_vocabulary",
    "class_index",
    "draw_scene",
    "draw_scene_with_layout",
    "scene_caption",
]

_COLOUR_VALUES: dict[str, tuple[int, int, int]] = {
    "red": (215, 30, 30),
    "orange": (245, 140, 15),
    "yellow": (240, 215, 20),
    "green": (30, 160, 50),
    "blue": (30, 70, 215),
    "purple": (135, 45, 180),
    "pink": (245, 110, 190),
    "black": (20, 20, 20),
}
COLOURS: tuple[str, ...] = tuple(_COLOUR_VALUES)
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "cross", "ring")
CLASSNAMES: list[str] = [f"{colour} {shape}" for colour in COLOURS for shape in SHAPES]
ZERO_SHOT_TEMPLATES: tuple[str, ...] = (
    "a photo of a {}.",
    "a {}.",
    "a drawing of a {}.",
    "a picture of a {}.",
    "an image of a {}.",
)
_CAPTION_TEMPLATES: tuple[str, ...] = (
    "a {colour} {shape}",
    "a photo of a {colour} {shape}",
    "a {colour} {shape} against a backdrop",
    "a picture showing a {colour} {shape}",
    "a drawing of a {shape} coloured {colour}",
    "a simple {colour} {shape} shape",
)
_FACE_SUFFIX = " next to a small face"
_SUPERSAMPLE = 2
#: where the object sits, by thirds of the central square: (horizontal, vertical) -> phrase
_POSITIONS = {
    ("left", "top"): "in the top left",
    ("centre", "top"): "at the top",
    ("right", "top"): "in the top right",
    ("left", "middle"): "on the left",
    ("centre", "middle"): "in the middle",
    ("right", "middle"): "on the right",
    ("left", "bottom"): "in the bottom left",
    ("centre", "bottom"): "at the bottom",
    ("right", "bottom"): "in the bottom right",
}


@dataclass(frozen=True)
class SceneLayout:
    """What a caption can truthfully say about where the object is and how big it is."""

    position: str
    size: str  # "small ", "large " or "" (medium)


def _layout(ox: float, oy: float, radius: float, sizes: tuple[float, float]) -> SceneLayout:
    """The layout of an object at offset (ox, oy) from the centre, in units of the square."""

    def third(offset: float, low: str, high: str) -> str:
        return low if offset < -0.08 else high if offset > 0.08 else ""

    horizontal = third(ox, "left", "right") or "centre"
    vertical = third(oy, "top", "bottom") or "middle"
    size = "small " if radius < sizes[0] else "large " if radius > sizes[1] else ""
    return SceneLayout(_POSITIONS[horizontal, vertical], size)


def class_index(colour: str, shape: str) -> int:
    """Index of the ``(colour, shape)`` class in ``CLASSNAMES``."""
    return COLOURS.index(colour) * len(SHAPES) + SHAPES.index(shape)


def scene_caption(
    colour: str,
    shape: str,
    rng: np.random.Generator,
    with_face: bool = False,
    layout: SceneLayout | None = None,
) -> str:
    """Caption a scene with one of six templates; ``with_face`` mentions the face glyph and a
    ``layout`` adds the object's size and position (as ``retain_disjoint`` captions do)."""
    if colour not in _COLOUR_VALUES or shape not in SHAPES:
        raise ValueError(f"unknown scene class {colour!r} {shape!r}")
    template = _CAPTION_TEMPLATES[int(rng.integers(len(_CAPTION_TEMPLATES)))]
    if layout is not None:
        if "{colour} {shape}" in template:
            template = template.replace("{colour} {shape}", layout.size + "{colour} {shape}", 1)
        else:
            template = template.replace("{shape}", layout.size + "{shape}", 1)
        template = f"{template} {layout.position}"
    caption = fix_articles(template.format(colour=colour, shape=shape))
    return caption + _FACE_SUFFIX if with_face else caption


def caption_vocabulary() -> frozenset[str]:
    """Every lower-case word that a scene caption or zero-shot prompt can contain."""
    text = " ".join(
        (
            *_CAPTION_TEMPLATES,
            *ZERO_SHOT_TEMPLATES,
            _FACE_SUFFIX,
            *CLASSNAMES,
            *_POSITIONS.values(),
            "an small large",
        )
    )
    words = text.replace("{", " ").replace("}", " ").replace(".", " ").split()
    return frozenset(word.lower() for word in words)


def _rotated(points: list[tuple[float, float]], angle: float) -> list[tuple[float, float]]:
    cos, sin = math.cos(angle), math.sin(angle)
    return [(x * cos - y * sin, x * sin + y * cos) for x, y in points]


def _shape_polygon(shape: str, radius: float) -> list[tuple[float, float]]:
    """Vertices (relative to the centre, unrotated) of the polygonal shapes."""
    if shape == "square":
        side = radius * 0.85
        return [(-side, -side), (side, -side), (side, side), (-side, side)]
    if shape == "triangle":
        return [
            (1.1 * radius * math.cos(a), 1.1 * radius * math.sin(a) + 0.12 * radius)
            for a in (math.radians(-90), math.radians(30), math.radians(150))
        ]
    if shape == "star":
        points = []
        for k in range(10):
            r = radius * (1.1 if k % 2 == 0 else 0.45)
            a = math.radians(-90 + 36 * k)
            points.append((r * math.cos(a), r * math.sin(a)))
        return points
    if shape == "cross":
        a, b = 0.32 * radius, radius
        return [
            (-a, -b), (a, -b), (a, -a), (b, -a), (b, a), (a, a),
            (a, b), (-a, b), (-a, a), (-b, a), (-b, -a), (-a, -a),
        ]  # fmt: skip
    raise ValueError(f"{shape!r} is not a polygon")


_BACKGROUND_STYLES: tuple[str, ...] = ("plain", "gradient", "stripes")
_BACKGROUND_STYLE_SHARES: tuple[float, ...] = (0.4, 0.3, 0.3)
# Each background grey differs from the object's luminance by at least this much, so that the
# object always stands out while the background's level tells nothing about the class.
_MIN_LUMINANCE_CONTRAST = 70.0


def _luminance(rgb: tuple[int, int, int]) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def _tinted_grey(rng: np.random.Generator, level: float) -> tuple[int, int, int]:
    tint = rng.uniform(-14, 14, size=3)
    red, green, blue = (int(min(255, max(0, level + t))) for t in tint)
    return red, green, blue


def _varied_background(
    rng: np.random.Generator, size: tuple[int, int], object_colour: tuple[int, int, int]
) -> Image.Image:
    """A plain, gradient or striped background of tinted greys that contrast with the object.

    Any grey level from dark to light is possible, so that no class can be told apart by
    its background and the shape features have to carry the class.
    """
    luminance = _luminance(object_colour)
    levels: list[float] = []
    while len(levels) < 2:
        level = float(rng.uniform(25, 250))
        if abs(level - luminance) >= _MIN_LUMINANCE_CONTRAST:
            levels.append(level)
    style = rng.choice(_BACKGROUND_STYLES, p=_BACKGROUND_STYLE_SHARES)
    first, second = _tinted_grey(rng, levels[0]), _tinted_grey(rng, levels[1])
    width, height = size
    if style == "gradient":
        top_to_bottom = rng.random() < 0.5
        steps = np.linspace(0.0, 1.0, height if top_to_bottom else width)[:, None]
        ramp = np.array(first, float) * (1 - steps) + np.array(second, float) * steps
        ramp = ramp.astype(np.uint8)
        pixels = ramp[:, None, :] if top_to_bottom else ramp[None, :, :]
        return Image.fromarray(np.ascontiguousarray(np.broadcast_to(pixels, (height, width, 3))))
    canvas = Image.new("RGB", size, first)
    if style == "stripes":
        draw = ImageDraw.Draw(canvas)
        period = int(rng.integers(8, 24)) * _SUPERSAMPLE
        vertical = rng.random() < 0.5
        for start in range(0, width if vertical else height, period):
            end = start + period // 2
            box = (start, 0, end, height) if vertical else (0, start, width, end)
            draw.rectangle(box, fill=second)
    return canvas


def draw_scene(
    colour: str,
    shape: str,
    rng: np.random.Generator,
    longest_side: int = 64,
    face: PortraitTraits | None = None,
) -> tuple[Image.Image, float]:
    """Draw one scene of a ``colour`` ``shape``; return the RGB image and its width/height.

    With ``face`` set, a small head in that persona's skin, hair and eye colours is drawn
    beside the object (the object then moves to the other side of the central square).
    """
    image, ratio, _ = draw_scene_with_layout(colour, shape, rng, longest_side, face)
    return image, ratio


def draw_scene_with_layout(
    colour: str,
    shape: str,
    rng: np.random.Generator,
    longest_side: int = 64,
    face: PortraitTraits | None = None,
) -> tuple[Image.Image, float, SceneLayout]:
    """``draw_scene``, plus the object's layout (the same image for the same ``rng``)."""
    if colour not in _COLOUR_VALUES or shape not in SHAPES:
        raise ValueError(f"unknown scene class {colour!r} {shape!r}")
    width, height = canvas_size(rng, longest_side)
    big_w, big_h = width * _SUPERSAMPLE, height * _SUPERSAMPLE
    unit = min(big_w, big_h)
    canvas = _varied_background(rng, (big_w, big_h), _COLOUR_VALUES[colour])
    draw = ImageDraw.Draw(canvas)

    side = 1.0 if rng.random() < 0.5 else -1.0
    if face is None:
        radius = float(rng.uniform(0.22, 0.34)) * unit
        reach = 0.47 * unit - radius
        ox, oy = rng.uniform(-1.0, 1.0, size=2) * reach
        layout = _layout(ox / unit, oy / unit, radius / unit, (0.26, 0.30))
    else:
        radius = float(rng.uniform(0.17, 0.24)) * unit
        ox = -side * (0.45 * unit - radius) + float(rng.uniform(-0.02, 0.02)) * unit
        oy = float(rng.uniform(-0.12, 0.12)) * unit
        layout = _layout(ox / unit, oy / unit, radius / unit, (0.193, 0.217))
    cx, cy = big_w / 2 + ox, big_h / 2 + oy
    fill = jitter_colour(_COLOUR_VALUES[colour], rng, 18)
    angle = math.radians(float(rng.uniform(-25.0, 25.0)))

    if shape == "circle":
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=fill)
    elif shape == "ring":
        width_px = max(2, round(0.36 * radius))
        draw.ellipse(
            (cx - radius, cy - radius, cx + radius, cy + radius), outline=fill, width=width_px
        )
    else:
        points = _rotated(_shape_polygon(shape, radius), angle)
        draw.polygon([(cx + x, cy + y) for x, y in points], fill=fill)

    if face is not None:
        head = float(rng.uniform(0.085, 0.11)) * unit
        hx = big_w / 2 + side * (0.47 * unit - 1.25 * head)
        hy = big_h / 2 + float(rng.uniform(-0.15, 0.15)) * unit
        draw_head(draw, face, (hx, hy), (head, head * 1.12), details=False)

    image = finish_image(canvas, (width, height), rng, brightness=(0.88, 1.12), noise=(1.5, 6.0))
    return image, width / height, layout
