"""The random draws of the training transform, one generator state per sample.

A sample's draws depend only on the run seed, the split, which read of the split it belongs
to and its slot in that read: never on worker processes, on the order in which workers finish,
or on what ran before in the process. The draws are made by the transform's own code (e.g.
``RandomResizedCrop.get_params``) with torch's CPU generator reseeded for each sample, inside
``preserved_generator`` so the process's generator is left as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator

import torch


def sample_seed(run_seed: int, split: str, read: str, slot: int) -> int:
    """The seed of one sample: ``read`` names the batch (``stream 0 batch 12``, ``rows 3``)."""
    material = json.dumps([run_seed, split, read, slot]).encode()
    return int.from_bytes(hashlib.sha256(material).digest()[:8], "little") >> 1


@contextlib.contextmanager
def preserved_generator() -> Iterator[None]:
    """Inside, ``reseed`` freely: torch's CPU generator is restored on the way out."""
    with torch.random.fork_rng(devices=[]):
        yield


def reseed(seed: int) -> None:
    """Seed torch's CPU generator for one sample's draws (CPU only: the transform runs there,
    and seeding every device would cost a hundred times more)."""
    torch.default_generator.manual_seed(seed)
