"""Evaluation protocols: every choice point of the metrics as named, versioned data.

A protocol is a JSON document (``schemas/protocol.schema.json``): a name, a version, and one
section of choices per metric family (``retfail``, ``acs``, ...), plus the basis of each choice
(quoted from the official evaluator, inferred from its outputs, or unknown and read plainly).
Plugins register protocols through the ``register_protocols`` hook; ``--protocol`` also takes
the path of a protocol file. The protocol's full content is recorded in every result, is part
of the reference-cache key and decides which results may share a table.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import ParameterError
from harness.storage import PROTOCOL_SCHEMA, first_schema_error

#: the protocol runs use unless told otherwise
DEFAULT_PROTOCOL = "official"
#: what results written before protocols existed were computed with (read, never computed)
LEGACY_IDENTITY = {"name": "salmu-harness", "version": "1", "sha256": None}


@dataclass(frozen=True, kw_only=True)
class EvaluationProtocol:
    """A named, versioned set of metric choices (read-only: variants are new protocols)."""

    name: str
    """What ``--protocol NAME`` selects and results record (``official``)."""
    version: str
    """The protocol's version: a changed choice is a new version."""
    description: str
    """What the protocol is, in a sentence."""
    choices: Mapping[str, Mapping[str, Any]]
    """Metric family -> choice -> value (``choices["retfail"]["ties"]``); ``section`` reads one."""
    basis: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Metric family -> choice -> where the value comes from (quoted, inferred or assumed)."""

    def section(self, name: str) -> Mapping[str, Any]:
        """The choices of one metric family, e.g. ``protocol.section("retfail")["ties"]``."""
        if name not in self.choices:
            raise ParameterError(
                f"protocol {self.name!r} has no section {name!r}",
                f"its sections are: {', '.join(sorted(self.choices))}",
            )
        return self.choices[name]

    @property
    def identity(self) -> dict[str, str | None]:
        """What comparability needs of a protocol: name, version and content hash."""
        return protocol_identity(self.to_json())

    def to_json(self) -> dict[str, Any]:
        """The protocol document, as results record it."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "choices": copy.deepcopy(dict(self.choices)),
            "basis": copy.deepcopy(dict(self.basis)),
        }

    def variant(self, section: str, choice: str, value: Any) -> EvaluationProtocol:
        """This protocol with one choice changed, named after the change (for sensitivity runs)."""
        choices = copy.deepcopy(dict(self.choices))
        if choice not in self.section(section):
            raise ParameterError(f"protocol section {section!r} has no choice {choice!r}")
        choices[section] = {**choices[section], choice: value}
        return protocol_from_json(
            {
                "name": f"{self.name}+{section}.{choice}={_compact(value)}",
                "version": self.version,
                "description": f"{self.name} with {section}.{choice} = {value!r}",
                "choices": choices,
            }
        )


def protocol_from_json(data: Any, source: str = "protocol") -> EvaluationProtocol:
    """A protocol from its JSON document, validated against the protocol schema."""
    error = first_schema_error(PROTOCOL_SCHEMA, data)
    if error is not None:
        where = ".".join(str(p) for p in error[0]) or "the top level"
        raise ParameterError(
            f"{source} is not a valid evaluation protocol: at {where}: {error[1]}",
            "see schemas/protocol.schema.json; `salmu-harness protocols --json` prints the "
            "built-in ones as examples",
        )
    return EvaluationProtocol(
        name=data["name"],
        version=data["version"],
        description=data["description"],
        choices=copy.deepcopy(data["choices"]),
        basis=copy.deepcopy(data.get("basis", {})),
    )


def load_protocol_file(path: Path) -> EvaluationProtocol:
    """The protocol in a JSON or YAML file."""
    from harness.storage import read_mapping_file

    return protocol_from_json(
        read_mapping_file(Path(path), "protocol file"), f"protocol file {path}"
    )


def protocol_identity(document: Mapping[str, Any]) -> dict[str, str | None]:
    """Name, version and a hash of name, version and choices (description and basis do not
    count) of a protocol document."""
    material = {k: document[k] for k in ("name", "version", "choices")}
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
    return {"name": document["name"], "version": document["version"], "sha256": digest}


def recorded_identity(evaluation: Mapping[str, Any]) -> dict[str, str | None]:
    """The protocol identity of a result's ``evaluation`` section (legacy when it has none)."""
    recorded = evaluation.get("protocol")
    return protocol_identity(recorded) if recorded else dict(LEGACY_IDENTITY)


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
