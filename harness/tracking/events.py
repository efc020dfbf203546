"""Passing a run's events to the reporters the user chose.

``reporting(...)`` opens one session per chosen reporter around a run; inside it,
``report_step`` and ``report_stage`` (called by the run context and the metric runner) reach
every session. Outside it they cost nothing. A session that raises while the run goes on is
logged and dropped: a tracker's hiccup never loses a finished unlearning run.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.tracking.reporter import Reporter, ReporterSession, RunStart

logger = logging.getLogger("salmu_harness")
_ACTIVE: contextvars.ContextVar[list[tuple[str, ReporterSession]] | None] = contextvars.ContextVar(
    "salmu_harness_reporters", default=None
)


class ActiveReporters:
    """The open sessions of one run; ``finish`` hands them the result."""

    def __init__(self, sessions: list[tuple[str, ReporterSession]]) -> None:
        self.sessions = sessions
        self.finished = False

    def abandon(self, reason: str) -> None:
        """Tell every session the run ended without a result."""
        self.finished = True
        _each(self.sessions, "abandon", reason)

    def finish(self, document: Mapping[str, Any], result_path: Path | None) -> None:
        """Give every session the written result (it is written first: trackers never hold a
        number the result file does not)."""
        self.finished = True
        _each(self.sessions, "finish", document, result_path)


@contextlib.contextmanager
def reporting(reporters: Sequence[Reporter], start: RunStart) -> Iterator[ActiveReporters]:
    """Open a session of each reporter for the run ``start`` describes, for the block's
    duration. Opening errors propagate (the run has not started); later ones are logged."""
    sessions: list[tuple[str, ReporterSession]] = []
    try:
        for reporter in reporters:
            sessions.append((reporter.name, reporter.open(start)))
    except BaseException:
        _each(sessions, "abandon", "another reporter could not start")
        raise
    token = _ACTIVE.set(sessions)
    active = ActiveReporters(sessions)
    try:
        yield active
    except BaseException as exc:
        if not active.finished:
            reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else repr(exc)
            _each(sessions, "abandon", reason)
        raise
    finally:
        _ACTIVE.reset(token)


def report_step(step: int, values: Mapping[str, float]) -> None:
    """Tell the active reporters about optimizer step ``step`` (after the steps of a
    schedule's earlier rounds, see ``steps_after``)."""
    sessions = _ACTIVE.get()
    if sessions:
        _each(sessions, "step", _STEPS_BEFORE.get() + step, values)


#: optimizer steps taken before the current unlearning (a schedule's earlier rounds)
_STEPS_BEFORE: contextvars.ContextVar[int] = contextvars.ContextVar("steps_before", default=0)


@contextlib.contextmanager
def steps_after(steps: int) -> Iterator[None]:
    """Number the steps reported in the block after ``steps`` earlier ones: a schedule's
    rounds report one rising sequence of steps to the trackers that follow the run."""
    token = _STEPS_BEFORE.set(steps)
    try:
        yield
    finally:
        _STEPS_BEFORE.reset(token)


def report_stage(name: str, **detail: Any) -> None:
    """Tell the active reporters that an evaluation stage ended."""
    sessions = _ACTIVE.get()
    if sessions:
        _each(sessions, "stage", name, detail)


def _each(sessions: list[tuple[str, ReporterSession]], event: str, *args: Any) -> None:
    for name, session in list(sessions):
        try:
            getattr(session, event)(*args)
        except Exception:
            logger.exception("reporter %s failed on %s; it is dropped for this run", name, event)
            sessions.remove((name, session))
