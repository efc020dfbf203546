"""Procedurally drawn, identity-preserving synthetic portraits for SALMU-mini.

A persona's look is fixed by its ``PortraitTraits`` (face shape, skin, hair colour and
style, eye colour, accessory, shirt colour, background). Every call of ``draw_portrait``
draws a *new* image of the same look: the aspect ratio, head position, scale, roll, gaze
(a small sideways shift of the facial features), brightness, a lighting gradient, the shade
of the background and the pixel noise all vary per image, while the traits stay visible.

The face is drawn large and inside the central square of the canvas, because CLIP-style
transforms resize the shortest side and then center-crop a square: at the default 64 px
longest side the head still fills about half of a 32x32 crop.

Drawing happens at twice the target size and is box-downsampled, which anti-aliases edges at a
negligible cost. Only ``numpy.random.Generator`` objects passed in by the caller are used, so
the output is a pure function of the traits and the generator state.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import astuple, dataclass

import numpy as np
from PIL import Image, ImageDraw

from harness.builtin.mini.drawing import RGB, canvas_size, darker, finish_image, jitter_colour

__all__ = [
    "ACCESSORIES",
    "BACKGROUNDS",
    "EYE_COLOURS",
    "FACE_SHAPES",
    "HAIR_COLOURS",
    "HAIR_STYLES",
    "MIN_TRAIT_DIFFERENCES",
    "SHIRT_COLOURS",
    "SKINS",
    "PortraitTraits",
    "caption_vocabulary",
    "draw_head",
    "draw_portrait",
    "fix_articles",
    "random_traits",
    "trait_caption",
    "trait_differences",
]


FACE_SHAPES: dict[str, tuple[float, float]] = {
    # half width, half height of the head, in units of the central square's side
    "round": (0.21, 0.23),
    "oval": (0.18, 0.25),
    "long": (0.155, 0.27),
    "square": (0.2, 0.225),
}
SKINS: dict[str, RGB] = {
    "pale": (255, 226, 200),
    "light": (238, 190, 140),
    "tan": (205, 150, 95),
    "brown": (140, 88, 50),
    "dark": (85, 52, 32),
}
HAIR_COLOURS: dict[str, RGB] = {
    "black": (28, 26, 26),
    "brown": (105, 64, 30),
    "blond": (235, 205, 105),
    "red": (190, 62, 28),
    "gray": (140, 140, 145),
    "white": (246, 246, 242),
}
HAIR_STYLES: tuple[str, ...] = ("short", "long", "curly", "spiky", "bun")
EYE_COLOURS: dict[str, RGB] = {
    "brown": (92, 56, 28),
    "blue": (40, 95, 210),
    "green": (35, 150, 60),
    "gray": (125, 135, 145),
}
ACCESSORIES: tuple[str, ...] = ("none", "glasses", "sunglasses", "hat", "headband", "earrings")
SHIRT_COLOURS: dict[str, RGB] = {
    "red": (205, 30, 35),
    "orange": (245, 135, 20),
    "yellow": (245, 215, 35),
    "green": (40, 160, 65),
    "blue": (40, 80, 205),
    "purple": (130, 50, 170),
    "white": (245, 245, 245),
    "black": (25, 25, 28),
}
BACKGROUNDS: dict[str, RGB] = {
    "gray": (165, 165, 165),
    "beige": (228, 212, 178),
    "light blue": (165, 200, 240),
    "pink": (242, 185, 205),
    "mint": (175, 232, 200),
    "lavender": (200, 182, 235),
}

#: Any two personas' traits differ in at least this many fields.
MIN_TRAIT_DIFFERENCES = 2

_HAT_COLOUR: RGB = (45, 45, 95)
_HEADBAND_COLOUR: RGB = (0, 175, 175)
_EARRING_COLOUR: RGB = (255, 200, 0)
_LENS_COLOUR: RGB = (20, 20, 24)
_MOUTH_COLOUR: RGB = (150, 40, 50)
_EYE_WHITE: RGB = (250, 250, 250)
_SUPERSAMPLE = 2

_HAIR_STYLE_WORDS = {
    "short": "short",
    "long": "long",
    "curly": "curly",
    "spiky": "spiky",
    "bun": "tied-up",
}
_ACCESSORY_PHRASES = {
    "none": "no accessories",
    "glasses": "glasses",
    "sunglasses": "sunglasses",
    "hat": "a hat",
    "headband": "a headband",
    "earrings": "earrings",
}
_CAPTION_TEMPLATES: tuple[str, ...] = (
    (
        "a person with {hair_style} {hair_colour} hair wearing a {shirt_colour} shirt "
        "on a {background} background"
    ),
    "a portrait of someone with {skin} skin and {hair_style} {hair_colour} hair",
    "a headshot of a person with a {face_shape} face and {eye_colour} eyes wearing {accessory}",
    "someone in a {shirt_colour} shirt wearing {accessory} on a {background} background",
    "a photo of a person with {hair_colour} hair, {skin} skin and a {shirt_colour} shirt",
    "a close-up of a face with {eye_colour} eyes and {hair_style} {hair_colour} hair",
)


_ARTICLE_RE = re.compile(r"\ba (?=[aeiou])")


def fix_articles(text: str) -> str:
    """Turn "a" into "an" before a vowel ("a orange shirt" -> "an orange shirt")."""
    return _ARTICLE_RE.sub("an ", text)


@dataclass(frozen=True)
class PortraitTraits:
    """The stable visual traits of one persona (values are keys of the module's tables)."""

    face_shape: str
    skin: str
    hair_colour: str
    hair_style: str
    eye_colour: str
    accessory: str
    shirt_colour: str
    background: str


_TRAIT_CHOICES: tuple[tuple[str, ...], ...] = (
    tuple(FACE_SHAPES),
    tuple(SKINS),
    tuple(HAIR_COLOURS),
    HAIR_STYLES,
    tuple(EYE_COLOURS),
    ACCESSORIES,
    tuple(SHIRT_COLOURS),
    tuple(BACKGROUNDS),
)


def trait_differences(a: PortraitTraits, b: PortraitTraits) -> int:
    """Number of trait fields in which ``a`` and ``b`` differ."""
    return sum(x != y for x, y in zip(astuple(a), astuple(b), strict=True))


def random_traits(
    rng: np.random.Generator,
    existing: Sequence[PortraitTraits],
    max_tries: int = 10_000,
) -> PortraitTraits:
    """Draw traits that differ from every trait set in ``existing`` in at least 2 fields.

    Rejection sampling; raises ``RuntimeError`` after ``max_tries`` rejected draws (the trait
    space holds 172,800 combinations, so this only happens with tens of thousands of personas).
    """
    for _ in range(max_tries):
        values = [options[int(rng.integers(len(options)))] for options in _TRAIT_CHOICES]
        candidate = PortraitTraits(*values)
        if all(trait_differences(candidate, other) >= MIN_TRAIT_DIFFERENCES for other in existing):
            return candidate
    raise RuntimeError(f"no trait set differing from all {len(existing)} existing ones found")


def trait_caption(traits: PortraitTraits, rng: np.random.Generator) -> str:
    """A non-sensitive caption of the visible traits (one of six templates, drawn with ``rng``).

    The caption never holds a name or a personal attribute, only the traits' words.
    """
    template = _CAPTION_TEMPLATES[int(rng.integers(len(_CAPTION_TEMPLATES)))]
    caption = template.format(
        face_shape=traits.face_shape,
        skin=traits.skin,
        hair_colour=traits.hair_colour,
        hair_style=_HAIR_STYLE_WORDS[traits.hair_style],
        eye_colour=traits.eye_colour,
        accessory=_ACCESSORY_PHRASES[traits.accessory],
        shirt_colour=traits.shirt_colour,
        background=traits.background,
    )
    return fix_articles(caption)


def caption_vocabulary() -> frozenset[str]:
    """Every lower-case word that a trait caption can contain (used to keep names apart)."""
    text = " ".join(_CAPTION_TEMPLATES) + " an"
    for table in (*_TRAIT_CHOICES, tuple(_HAIR_STYLE_WORDS.values())):
        text += " " + " ".join(table)
    text += " " + " ".join(_ACCESSORY_PHRASES.values())
    words = text.replace(",", " ").replace("{", " ").replace("}", " ").replace("-", " ").split()
    return frozenset(word.lower() for word in words)


def draw_head(
    draw: ImageDraw.ImageDraw,
    traits: PortraitTraits,
    centre: tuple[float, float],
    half_size: tuple[float, float],
    gaze: float = 0.0,
    line: int = 1,
    details: bool = True,
) -> None:
    """Draw a head (hair, face, eyes and, with ``details``, mouth, nose and accessory).

    ``centre`` and ``half_size`` are in canvas pixels; ``gaze`` shifts the facial features
    sideways by that fraction of the head's half width.
    """
    hx, hy = centre
    rw, rh = half_size
    skin = SKINS[traits.skin]
    hair = HAIR_COLOURS[traits.hair_colour]
    style = traits.hair_style
    fx = hx + gaze * rw

    if style == "long":
        draw.rounded_rectangle(
            (hx - 1.18 * rw, hy - 0.6 * rh, hx + 1.18 * rw, hy + 1.3 * rh),
            radius=0.5 * rw,
            fill=hair,
        )
    # ears
    for side in (-1, 1):
        ex = hx + side * rw
        draw.ellipse((ex - 0.16 * rw, hy - 0.2 * rh, ex + 0.16 * rw, hy + 0.2 * rh), fill=skin)
    head_box = (hx - rw, hy - rh, hx + rw, hy + rh)
    if traits.face_shape == "square":
        draw.rounded_rectangle(head_box, radius=0.45 * rw, fill=skin)
    else:
        draw.ellipse(head_box, fill=skin)

    # hair on top of the head
    hair_box = (hx - 1.08 * rw, hy - 1.12 * rh, hx + 1.08 * rw, hy + 0.22 * rh)
    draw.chord(hair_box, 180, 360, fill=hair)
    if traits.accessory != "hat":
        if style == "curly":
            radius = 0.3 * rw
            for angle in np.linspace(math.radians(190), math.radians(350), 7):
                px = hx + 1.0 * rw * math.cos(angle)
                py = hy - 0.35 * rh + 0.78 * rh * math.sin(angle)
                draw.ellipse((px - radius, py - radius, px + radius, py + radius), fill=hair)
        elif style == "spiky":
            for angle in np.linspace(math.radians(200), math.radians(340), 6):
                bx = hx + 0.95 * rw * math.cos(angle)
                by = hy - 0.45 * rh + 0.65 * rh * math.sin(angle)
                tx = hx + 1.45 * rw * math.cos(angle)
                ty = hy - 0.45 * rh + 1.05 * rh * math.sin(angle)
                nx, ny = -math.sin(angle) * 0.22 * rw, math.cos(angle) * 0.22 * rw
                draw.polygon([(bx - nx, by - ny), (tx, ty), (bx + nx, by + ny)], fill=hair)
        elif style == "bun":
            radius = 0.38 * rw
            by = hy - 1.12 * rh
            draw.ellipse((hx - radius, by - radius, hx + radius, by + radius), fill=hair)

    # eyes
    eye_y = hy - 0.08 * rh
    for side in (-1, 1):
        ex = fx + side * 0.4 * rw
        draw.ellipse(
            (ex - 0.2 * rw, eye_y - 0.12 * rh, ex + 0.2 * rw, eye_y + 0.12 * rh), fill=_EYE_WHITE
        )
        ir = 0.12 * rw
        ix = ex + 0.3 * gaze * rw
        draw.ellipse(
            (ix - ir, eye_y - ir, ix + ir, eye_y + ir), fill=EYE_COLOURS[traits.eye_colour]
        )
    if not details:
        return

    # nose and mouth
    shade = darker(skin, 0.72)
    draw.line((fx, eye_y + 0.1 * rh, fx + 0.08 * rw, hy + 0.22 * rh), fill=shade, width=line)
    draw.arc(
        (fx - 0.32 * rw, hy + 0.22 * rh, fx + 0.32 * rw, hy + 0.55 * rh),
        20,
        160,
        fill=_MOUTH_COLOUR,
        width=max(1, line),
    )

    accessory = traits.accessory
    if accessory in ("glasses", "sunglasses"):
        for side in (-1, 1):
            ex = fx + side * 0.4 * rw
            box = (ex - 0.3 * rw, eye_y - 0.22 * rh, ex + 0.3 * rw, eye_y + 0.2 * rh)
            if accessory == "glasses":
                draw.ellipse(box, outline=_LENS_COLOUR, width=max(1, line))
            else:
                draw.rounded_rectangle(box, radius=0.1 * rw, fill=_LENS_COLOUR)
        draw.line(
            (fx - 0.12 * rw, eye_y - 0.04 * rh, fx + 0.12 * rw, eye_y - 0.04 * rh),
            fill=_LENS_COLOUR,
            width=max(1, line),
        )
    elif accessory == "hat":
        crown = (hx - 0.8 * rw, hy - 1.5 * rh, hx + 0.8 * rw, hy - 0.8 * rh)
        draw.rectangle(crown, fill=_HAT_COLOUR)
        brim = (hx - 1.3 * rw, hy - 0.9 * rh, hx + 1.3 * rw, hy - 0.76 * rh)
        draw.rectangle(brim, fill=_HAT_COLOUR)
    elif accessory == "headband":
        draw.chord(
            (hx - 1.06 * rw, hy - 0.98 * rh, hx + 1.06 * rw, hy + 0.05 * rh),
            180,
            360,
            outline=_HEADBAND_COLOUR,
            width=max(2, 2 * line),
        )
    elif accessory == "earrings":
        radius = 0.13 * rw
        for side in (-1, 1):
            ex, ey = hx + side * 1.02 * rw, hy + 0.28 * rh
            draw.ellipse((ex - radius, ey - radius, ex + radius, ey + radius), fill=_EARRING_COLOUR)


def draw_portrait(
    traits: PortraitTraits,
    rng: np.random.Generator,
    longest_side: int = 64,
) -> tuple[Image.Image, float]:
    """Draw a new image of the persona with ``traits``; return it and its width/height ratio.

    Per image, drawn from ``rng``: aspect ratio in [0.6, 1.4], head offset (up to 7% of the
    central square), scale (0.88-1.12), roll (up to 8 degrees), gaze, background shade,
    brightness (0.82-1.18), a lighting gradient and Gaussian pixel noise (sigma 2-7).
    """
    width, height = canvas_size(rng, longest_side)
    ss = _SUPERSAMPLE
    big_w, big_h = width * ss, height * ss
    unit = min(big_w, big_h)
    background = jitter_colour(BACKGROUNDS[traits.background], rng, 16)
    canvas = Image.new("RGB", (big_w, big_h), background)
    draw = ImageDraw.Draw(canvas)

    scale = float(rng.uniform(0.88, 1.12))
    dx, dy = rng.uniform(-0.07, 0.07, size=2) * unit
    hx, hy = big_w / 2 + dx, big_h / 2 - 0.06 * unit + dy
    half_w, half_h = FACE_SHAPES[traits.face_shape]
    rw, rh = half_w * unit * scale, half_h * unit * scale
    line = max(1, round(unit * 0.015))

    # shoulders and shirt, down to the bottom of the canvas
    shirt = SHIRT_COLOURS[traits.shirt_colour]
    top = hy + rh * 1.05
    draw.ellipse((hx - 2.1 * rw, top, hx + 2.1 * rw, top + 1.6 * rh), fill=shirt)
    bottom = max(float(big_h), top + 0.8 * rh)
    draw.rectangle((hx - 2.1 * rw, top + 0.8 * rh, hx + 2.1 * rw, bottom), fill=shirt)
    neck = darker(SKINS[traits.skin], 0.9)
    draw.rectangle((hx - 0.32 * rw, hy + 0.6 * rh, hx + 0.32 * rw, top + 0.25 * rh), fill=neck)

    draw_head(draw, traits, (hx, hy), (rw, rh), gaze=float(rng.uniform(-0.25, 0.25)), line=line)

    roll = float(rng.uniform(-8.0, 8.0))
    canvas = canvas.rotate(
        roll, resample=Image.Resampling.BILINEAR, center=(hx, hy), fillcolor=background
    )
    image = finish_image(canvas, (width, height), rng)
    return image, width / height
