"""Run a command and measure its wall time and the peak memory of its whole process tree.

DataLoader workers are separate processes, so the peak of the parent alone (``ru_maxrss``)
understates what an evaluation needs; this samples every process of the tree from ``/proc``.
Memory is the proportional set size (PSS): pages shared between the parent and its forked
workers (torch's libraries, copy-on-write model weights) count once in the total, not once per
process as a sum of RSS would count them.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_bytes: int
    returncode: int
    stdout: str
    stderr: str


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _pss(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    with contextlib.suppress(OSError, IndexError, ValueError):  # no smaps_rollup: RSS
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    return 0


def tree_memory(root: int) -> int:
    """Bytes of memory (PSS) that ``root`` and all its descendants use now."""
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        total += _pss(pid)
        todo.extend(tree.get(pid, []))
    return total


def measure(
    command: list[str], env: dict[str, str] | None = None, interval: float = 0.1
) -> Measured:
    """Run ``command`` to completion, sampling its tree's RSS every ``interval`` seconds."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_memory(process.pid))
            time.sleep(interval)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return Measured(seconds, peak, process.returncode, out.read(), err.read())
