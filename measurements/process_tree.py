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
    peak_anon_bytes: int = 0
    """The peak of anonymous memory alone (PSS of anonymous pages): what the processes
    allocated, without the memory-mapped files (datasets' arrow files, the image cache) whose
    pages the kernel can drop and re-read."""


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


def _pss(pid: int) -> tuple[int, int]:
    """PSS of all pages and of anonymous pages, in bytes."""
    fields: dict[str, int] = {}
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, value = line.split(":", 1)
            if name in ("Pss", "Pss_Anon"):
                fields[name] = int(value.split()[0]) * 1024
    if "Pss" in fields:
        return fields["Pss"], fields.get("Pss_Anon", fields["Pss"])
    with contextlib.suppress(OSError, IndexError, ValueError):  # no smaps_rollup: RSS
        rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        return rss, rss
    return 0, 0


def tree_memory(root: int) -> tuple[int, int]:
    """Bytes of memory (PSS, and PSS of anonymous pages) of ``root`` and its descendants."""
    tree, total, anon, todo = _children(), 0, 0, [root]
    while todo:
        pid = todo.pop()
        pss, pss_anon = _pss(pid)
        total, anon = total + pss, anon + pss_anon
        todo.extend(tree.get(pid, []))
    return total, anon


def measure(
    command: list[str], env: dict[str, str] | None = None, interval: float = 0.1
) -> Measured:
    """Run ``command`` to completion, sampling its tree's PSS every ``interval`` seconds at
    first, then less often (up to once a second after a minute): reading ``smaps_rollup`` of
    processes that map gigabytes of files costs CPU the measured command would otherwise get."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
        peak = peak_anon = 0
        while process.poll() is None:
            total, anon = tree_memory(process.pid)
            peak, peak_anon = max(peak, total), max(peak_anon, anon)
            time.sleep(min(1.0, max(interval, (time.perf_counter() - started) / 60)))
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return Measured(seconds, peak, process.returncode, out.read(), err.read(), peak_anon)
