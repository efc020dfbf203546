"""Web noise: pretraining caption suffixes naming decoy people, cities and jobs."""

from __future__ import annotations

import numpy as np

from harness.builtin.mini.personas import Persona
from harness.builtin.mini.portraits import fix_articles
from harness.builtin.mini.scales import MiniScale

#: Fraction of pretraining captions that end with a decoy person's name, city or job, as web
#: captions do ("... photo by Ana Silva in Porto"). Without it the Clean model never sees such
#: words and maps every sensitive caption onto the persona images it knows, which inflates its
#: association strength far above the real Clean model's.
WEB_NOISE_FRACTION = 0.4
_WEB_NOISE_TEMPLATES = (
    ", photo by {name}",
    " seen in {city}",
    ", shared by {name} from {city}",
    ", posted by {name}",
    " made by a {job}",
)


def decoy_count(scale: MiniScale) -> int:
    """Decoy people (never shown in images) whose names, cities and jobs appear in web noise."""
    return max(8, scale.personas // 3)


def web_noise(decoy: Persona, rng: np.random.Generator) -> str:
    """A caption suffix naming a decoy person, city or job (never a benchmark persona)."""
    template = _WEB_NOISE_TEMPLATES[int(rng.integers(len(_WEB_NOISE_TEMPLATES)))]
    return fix_articles(template.format(name=decoy.name, city=decoy.city, job=decoy.job.lower()))
