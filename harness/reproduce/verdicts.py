"""Failure-mode classes and whether a selected setting's class agrees with the paper's.

A class is the set of failure modes shown (the suite's modes, e.g. catastrophic damage,
over-generalised forgetting, ineffective forgetting); the empty set is "forgets with utility
kept". A selected setting shows a mode when more than half of its seeds do. Agreement: ``yes``
when the two classes are equal, ``partly`` when they share a mode, ``no`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

NO_FAILURE = "forgets with utility kept"


def majority_modes(counts: Mapping[str, int], seeds: int) -> list[str]:
    """The modes shown by more than half of ``seeds`` seeds, in name order."""
    return sorted(mode for mode, count in counts.items() if count * 2 > seeds)


def agreement(ours: Sequence[str], paper: Sequence[str]) -> str:
    """``yes``, ``partly`` or ``no``."""
    if set(ours) == set(paper):
        return "yes"
    return "partly" if set(ours) & set(paper) else "no"


def describe(modes: Sequence[str], labels: Mapping[str, str]) -> str:
    """A class in words (each mode by its label in ``labels``), or ``NO_FAILURE``."""
    return ", ".join(labels.get(m, m.replace("_", " ")) for m in modes) or NO_FAILURE
