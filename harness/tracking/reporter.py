"""The declaration of a reporter: an experiment tracker that follows runs and evaluations.

A reporter plugin registers a ``Reporter`` whose ``open(start)`` is called once per run (or per
evaluated checkpoint) and returns a ``ReporterSession``. The session hears of the method's
optimizer steps, of each metric computed, and of the final result. Users choose reporters with
``--report-to NAME,NAME``; none is active by default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import PluginError, check_name


@dataclass(frozen=True)
class RunStart:
    """What a reporter learns when a run or an evaluation starts."""

    run_id: str
    """The result folder's name, e.g. ``finetune-20261203-101500-ab12``."""
    kind: str
    """``run`` (unlearn, then evaluate) or ``evaluate`` (a given checkpoint)."""
    name: str
    """The method's name, or the checkpoint as given."""
    config: Mapping[str, Any]
    """The result's ``config`` section: benchmark, method parameters, budget, seed, protocol."""
    folder: Path
    """The run folder, where ``result.json`` will be written."""


class ReporterSession:
    """One tracked run. Subclass it and override what the tracker records; every method has a
    default that does nothing."""

    def step(self, step: int, values: Mapping[str, float]) -> None:
        """The method made optimizer step ``step`` (1-based); ``values`` holds ``loss``."""

    def stage(self, name: str, detail: Mapping[str, Any]) -> None:
        """An evaluation stage ended, e.g. ``metric`` with the model, key, status and seconds."""

    def finish(self, document: Mapping[str, Any], result_path: Path | None) -> None:
        """The result was written (``document`` is schema-valid; ``status`` may be ``failed``,
        and ``result_path`` is None when not even a failed result could be written)."""

    def abandon(self, reason: str) -> None:
        """The run ended without a result (interrupted, or failed before one was written)."""


@dataclass(frozen=True, kw_only=True)
class Reporter:
    """An experiment tracker, chosen with ``--report-to NAME``."""

    name: str
    """What users type after ``--report-to`` (lower-case letters, digits, ``. _ -``)."""
    description: str
    """One line shown by ``salmu-harness plugins``."""
    open: Callable[[RunStart], ReporterSession]
    """``open(start)``: begin tracking one run. Raise ``harness.HarnessError`` with a hint
    when the tracker cannot be used (library missing, store unreachable): the run then does
    not start."""
    plugin_api: str = ">=1,<2"
    """The plugin API versions this reporter supports, as a version range."""

    def __post_init__(self) -> None:
        check_name("reporter", self.name)
        if not callable(self.open):
            raise PluginError(f"reporter {self.name!r}: open must be callable")
