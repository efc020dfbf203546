"""Errors a user can cause, each carrying the one message that says what to do.

The CLI turns any ``HarnessError`` into that message and a non-zero exit code, never a
traceback. Code that wraps a third-party exception raises one of these ``from`` it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

#: what users type to name a method, benchmark, suite or reporter (``run NAME``, ``--benchmark
#: NAME``, ``--report-to NAME``): one rule for every registered name
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class HarnessError(Exception):
    """An error with a user-facing message and an optional hint on how to fix it."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


def close_matches(name: str, known: Iterable[str]) -> list[str]:
    """The (at most three) known names closest to ``name``, for "did you mean" messages."""
    return difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.5)


class UnknownNameError(HarnessError):
    """A method, metric, benchmark or split name that is not installed."""

    def __init__(
        self, kind: str, name: str, known: Iterable[str], known_as: str | None = None
    ) -> None:
        known = sorted(known)
        close = close_matches(name, known)
        message = f"unknown {kind} {name!r}"
        if close:
            message += f"; did you mean {', '.join(repr(c) for c in close)}?"
        listing = ", ".join(known) if known else "(none installed)"
        super().__init__(message, f"{known_as or f'installed {kind}s'}: {listing}")
        self.name = name
        self.suggestions = close


class PluginError(HarnessError):
    """A plugin that failed to import or register, or that declares an incompatible API."""


def check_name(kind: str, name: str) -> None:
    """Refuse a registered name users could not type (``NAME_PATTERN``)."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise PluginError(
            f"{kind} name {name!r} is invalid",
            "use lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
        )


class ParameterError(HarnessError):
    """A method parameter or configuration value that does not match its schema."""


class BenchmarkError(HarnessError):
    """A benchmark that cannot be loaded: missing split or file, gated or offline hub, ..."""


class CheckpointError(HarnessError):
    """A weights file that is missing, corrupt, truncated or of another architecture."""


class BudgetExceededError(HarnessError):
    """A method read more samples than its compute budget allows."""


class NonFiniteModelError(HarnessError):
    """A loss or a model output became NaN or infinite."""


class ResultError(HarnessError):
    """A result document that does not validate."""
