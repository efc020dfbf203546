"""Access to the JSON Schemas shipped in ``schemas/`` (installed as ``harness.schemas``)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

RESULT_SCHEMA = "result.schema.json"
PROTOCOL_SCHEMA = "protocol.schema.json"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema file ``name`` from the installed package."""
    return json.loads(resources.files("harness.schemas").joinpath(name).read_text("utf-8"))
