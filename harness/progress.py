"""Progress bars (tqdm) that stay quiet when asked to or when stderr is not a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")
QUIET_ENV_VAR = "SALMU_HARNESS_QUIET"


def progress_enabled(requested: bool = True) -> bool:
    """Whether to draw bars: requested, not silenced by the env var, and stderr is a terminal."""
    return requested and not os.environ.get(QUIET_ENV_VAR) and sys.stderr.isatty()


def progress_bar(
    iterable: Iterable[T] | None = None, *, desc: str, enabled: bool = True, **kwargs: Any
) -> Any:
    """A tqdm bar over ``iterable`` (or a manual one when ``iterable`` is None)."""
    return tqdm(
        iterable,
        desc=desc,
        disable=not progress_enabled(enabled),
        leave=False,
        dynamic_ncols=True,
        **kwargs,
    )
