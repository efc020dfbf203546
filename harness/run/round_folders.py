"""What a schedule's folder holds: the finished rounds a resumed run reads back, and the round
checkpoints ``evaluate --schedule`` is given."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import ParameterError
from harness.results.layout import MODEL, RunFolder, round_number
from harness.results.validation import validate_file
from harness.run.models import CONFIG_FILE

#: settings a resumed schedule may change: they never change a number
RESUMABLE_CHANGES = frozenset({"workers"})


def finished_round(
    place: RunFolder, config: Mapping[str, Any], number: int, request: Sequence[str]
) -> dict[str, Any] | None:
    """Round ``number``'s result when it finished earlier with these settings, for this
    request, and its model is there; None when the round must run. A round of other settings
    or another request is an error naming what differs."""
    if not place.result.is_file() or validate_file(place.result):
        return None
    document = json.loads(place.result.read_text())
    if document["status"] != "ok" or not (place.model / CONFIG_FILE).is_file():
        return None
    expected = json.loads(json.dumps(config))
    changed = sorted(
        k
        for k in set(expected) | set(document["config"])
        if k not in RESUMABLE_CHANGES and document["config"].get(k) != expected.get(k)
    )
    if (document.get("schedule") or {}).get("request") != list(request):
        changed.append("the request's personas")
    if changed:
        raise ParameterError(
            f"{place.root} holds round {number} of a run with other settings "
            f"({', '.join(changed)} differ)",
            "resume with the settings it was started with, or choose another --run-id",
        )
    return document


def round_checkpoints(given: Sequence[str | Path]) -> list[str]:
    """The round checkpoints, in order: as given, or the ``round-N`` folders of one folder
    (each its ``model/`` when it is a round's run folder). Each must exist."""
    found = [str(c) for c in given]
    if len(given) == 1:
        root = Path(str(given[0]).removeprefix("local-dir:"))
        numbered = {}
        for child in root.iterdir() if root.is_dir() else []:
            number = round_number(child)
            if number is not None and child.is_dir():
                numbered[number] = child / MODEL if (child / MODEL).is_dir() else child
        missing = sorted(set(range(1, max(numbered, default=0) + 1)) - set(numbered))
        if missing:
            raise ParameterError(
                f"{root} has no round-{missing[0]} folder among its rounds",
                "each round 1..N needs its folder",
            )
        if numbered:
            found = [f"local-dir:{numbered[n]}" for n in sorted(numbered)]
    for checkpoint in found:
        path = Path(checkpoint.removeprefix("local-dir:"))
        if path.is_dir() and not (path / CONFIG_FILE).is_file():
            raise ParameterError(
                f"round checkpoint {path} is a folder without a saved model ({CONFIG_FILE})",
                "give each round's model folder (round-N/model) or weights file",
            )
    return found


def check_recorded_requests(checkpoints: Sequence[str], requests: Sequence[Sequence[str]]) -> None:
    """Round checkpoints saved in a schedule's round folders were run for the requests their
    results record: those must be the requests drawn now (the same schedule and seed)."""
    for number, (checkpoint, request) in enumerate(zip(checkpoints, requests, strict=True), 1):
        model = Path(checkpoint.removeprefix("local-dir:"))
        result = model.parent / "result.json"
        if model.name != MODEL or not result.is_file() or validate_file(result):
            continue
        recorded = (json.loads(result.read_text()).get("schedule") or {}).get("request")
        if recorded is not None and recorded != list(request):
            raise ParameterError(
                f"round {number} ({model}) was run for other personas than this schedule's "
                f"request {number}",
                "give the --seed and --schedule the rounds were run with",
            )
