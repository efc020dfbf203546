"""The harness's random number generators: each depends only on a seed and a purpose.

Nothing the harness draws (galleries, bootstrap resamples, negatives, method batches) uses a
process-global generator, so a number never depends on what ran before it in the process.
"""

from __future__ import annotations

import hashlib

import numpy as np


def dedicated_rng(seed: int, purpose: str) -> np.random.Generator:
    """A generator that depends only on ``seed`` and ``purpose``, never on global state."""
    salt = int.from_bytes(hashlib.sha256(purpose.encode()).digest()[:8], "little")
    return np.random.default_rng(np.random.SeedSequence([seed, salt]))
