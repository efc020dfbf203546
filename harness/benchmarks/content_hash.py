"""Content hashes of splits, remembered by dataset fingerprint.

A split's content hash reads every image's bytes: seconds and gigabytes of page cache on the
real benchmark, in every process. ``datasets`` fingerprints each dataset it loads from its
source files (paths and modification times) and each selection from its parent and indices,
and decides from that same fingerprint whether its own cache still holds the rows; the hash is
kept under ``$SALMU_HARNESS_CACHE/hashes`` by fingerprint, so a later process reads it instead
of every image. A split without a fingerprint is hashed every time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from harness.storage import cache_dir, write_json_atomic

AREA = "hashes"
FORMAT_VERSION = "1"


def remembered_hash(fingerprint: str | None, compute: Callable[[], str]) -> str:
    """The hash remembered for ``fingerprint``, or ``compute()``'s, then remembered."""
    if not fingerprint:
        return compute()
    material = json.dumps([FORMAT_VERSION, fingerprint]).encode()
    path = cache_dir(AREA) / f"{hashlib.sha256(material).hexdigest()}.json"
    try:
        record = json.loads(path.read_text())
        if record["format"] == FORMAT_VERSION and record["fingerprint"] == fingerprint:
            return str(record["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    digest = compute()
    try:
        record = {"format": FORMAT_VERSION, "fingerprint": fingerprint, "sha256": digest}
        write_json_atomic(path, record)
    except OSError:  # a read-only cache only costs the next process the hashing
        pass
    return digest
