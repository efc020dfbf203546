"""The unlearning data path: how a split's rows become the batches a method receives.

- ``draws``: the seeded augmentation draw of every sample (no process-global generator);
- ``geometry``: a training transform split into a cacheable resize and a per-sample crop;
- ``cache``: the training image cache (each split decoded once, memory-mapped);
- ``sources``: turning rows into a batch, from the cache or exactly from the PNGs;
- ``stream``: batches prepared ahead by worker processes, and what a run records of it.
"""

from __future__ import annotations

from harness.training_data.stream import DATA_PATH_VERSION, DataPath

__all__ = ["DATA_PATH_VERSION", "DataPath"]
