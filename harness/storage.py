"""Where the harness keeps its caches, and atomic file writes (temp file + rename)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import platformdirs

CACHE_ENV_VAR = "SALMU_HARNESS_CACHE"


def cache_dir(*parts: str) -> Path:
    """The harness cache (``$SALMU_HARNESS_CACHE`` or the user cache dir), sub-folder created."""
    root = os.environ.get(CACHE_ENV_VAR) or platformdirs.user_cache_dir("salmu-harness")
    path = Path(root).expanduser().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, document: Any) -> None:
    """Write ``document`` as indented JSON, atomically; NaN and infinity are refused."""
    text = json.dumps(document, indent=2, sort_keys=False, allow_nan=False, ensure_ascii=False)
    write_bytes_atomic(path, (text + "\n").encode("utf-8"))


@contextlib.contextmanager
def staged_folder(destination: Path) -> Iterator[Path]:
    """A temporary folder beside ``destination`` that replaces it when the block succeeds.

    If the block raises (or the process dies), ``destination`` is left as it was and the
    temporary folder is removed (or, after a kill, left as a hidden ``.name.*`` folder).
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        yield staging
        if destination.exists():
            shutil.rmtree(destination)
        staging.rename(destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
