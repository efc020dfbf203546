"""The evaluation protocols shipped with the SALMUBench suite (``protocols/*.json``)."""

from __future__ import annotations

import json
from pathlib import Path

from harness.protocol import EvaluationProtocol, protocol_from_json

PROTOCOL_FOLDER = Path(__file__).parent / "protocols"


def builtin_protocols() -> list[EvaluationProtocol]:
    """The protocols shipped with the suite, official first."""
    files = sorted(PROTOCOL_FOLDER.glob("*.json"), key=lambda f: (f.stem != "official", f.stem))
    return [protocol_from_json(json.loads(f.read_text("utf-8")), str(f.name)) for f in files]
