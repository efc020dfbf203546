"""Where method and metric logs go: the run folder's ``run.log`` (always, DEBUG and up) and,
from the command line, stderr (WARNING and up by default, INFO with ``-v``, DEBUG with ``-vv``).

Methods log through ``ctx.logger`` (``salmu_harness.method.NAME``), metrics through
``ctx.logger`` of their evaluation context (``salmu_harness.metrics``); both are children of
the ``salmu_harness`` logger, which these handlers are attached to.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

LOGGER = "salmu_harness"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_STDERR_HANDLER = "salmu-harness-stderr"


def harness_logger() -> logging.Logger:
    """The ``salmu_harness`` logger, open to every level (handlers choose what they keep)."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.DEBUG)
    return logger


@contextlib.contextmanager
def run_log(path: Path) -> Iterator[Path]:
    """Copy every harness, method and metric log record to ``path`` (a run folder's
    ``run.log``) while the block runs.

    Records go to a hidden file beside the run folder first; it becomes ``run.log`` when the
    block ends and the run folder exists (a result was written, even a failed one), and is
    removed otherwise: a run stopped before any result leaves nothing behind. An existing
    ``run.log`` (a schedule resumed in its folder) is appended to.
    """
    folder = path.parent
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.{path.name}"
    handler = logging.FileHandler(staging, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter(FORMAT))
    logger = harness_logger()
    logger.addHandler(handler)
    try:
        yield path
    finally:
        logger.removeHandler(handler)
        handler.close()
        if folder.is_dir() and path.is_file():  # a resumed schedule: its earlier records stay
            with path.open("a", encoding="utf-8") as log:
                log.write(staging.read_text(encoding="utf-8"))
            staging.unlink()
        elif folder.is_dir():
            os.replace(staging, path)
        else:
            staging.unlink(missing_ok=True)


def log_to_stderr(verbosity: int) -> None:
    """Show harness, method and metric logs on stderr: WARNING and up, INFO with one ``-v``,
    DEBUG with two (replaces what an earlier call set up)."""
    logger = harness_logger()
    for handler in list(logger.handlers):
        if handler.get_name() == _STDERR_HANDLER:
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_STDERR_HANDLER)
    handler.setLevel({0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG))
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False  # the root logger would print the same lines again
