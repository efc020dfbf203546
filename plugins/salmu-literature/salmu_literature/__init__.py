"""CLIPErase, DELETE and VLUnlearn for CLIP, registered through salmu-harness's public hooks."""

from __future__ import annotations

from collections.abc import Callable

import harness
from salmu_literature.methods import METHODS

__all__ = ["register_methods"]


@harness.hookimpl
def register_methods(register: Callable[[harness.Method], None]) -> None:
    for method in METHODS:
        register(method)
