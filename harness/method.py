"""The declaration of an unlearning method, and the resolution of its parameters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jsonschema

from harness.errors import ParameterError, PluginError, check_name

if TYPE_CHECKING:
    import torch

    from harness.context import RunContext

EMPTY_PARAMETERS: Mapping[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True, kw_only=True)
class Method:
    """An unlearning algorithm: it receives a ``RunContext`` and returns the unlearned model.

    ``parameters`` is a JSON Schema (draft 2020-12) of an object; each property should carry a
    ``default`` and a ``description``. Unknown keys are always rejected.
    """

    name: str
    """What users type: ``salmu-harness run NAME`` (lower-case letters, digits, ``. _ -``)."""
    description: str
    """What the method does; the first line is its summary in ``salmu-harness methods``."""
    version: str
    """The method's own version, recorded in every result it produces."""
    unlearn: Callable[[RunContext, dict[str, Any]], torch.nn.Module]
    """``unlearn(ctx, params)``: returns the unlearned model (usually ``ctx.model``, changed)."""
    parameters: Mapping[str, Any] = field(default_factory=lambda: dict(EMPTY_PARAMETERS))
    """JSON Schema of the parameters (``harness.training.parameters_schema`` for methods
    that fine-tune, ``harness.training.training_free_schema`` for methods that do not)."""
    plugin_api: str = ">=1,<2"
    """The plugin API versions this method supports, as a version range (``>=1,<2``). The
    harness refuses to load a method whose range excludes its own plugin API version
    (``salmu-harness plugins`` lists it as broken, naming both versions)."""

    def __post_init__(self) -> None:
        check_name("method", self.name)
        if not callable(self.unlearn):
            raise PluginError(f"method {self.name!r}: unlearn must be callable")
        try:
            jsonschema.Draft202012Validator.check_schema(dict(self.parameters))
        except jsonschema.SchemaError as exc:
            raise PluginError(
                f"method {self.name!r}: its parameter schema is not a valid JSON Schema: "
                f"{exc.message}"
            ) from exc
        if self.parameters.get("type", "object") != "object":
            raise PluginError(f"method {self.name!r}: its parameter schema must be of type object")

    @property
    def summary(self) -> str:
        """The first line of the description."""
        return self.description.strip().splitlines()[0] if self.description.strip() else ""

    def defaults(self) -> dict[str, Any]:
        """Every parameter's default value, from the schema."""
        properties = self.parameters.get("properties", {})
        return {key: spec["default"] for key, spec in properties.items() if "default" in spec}

    def resolve_parameters(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults updated with ``overrides``, validated against the schema.

        Raises ``ParameterError`` naming the offending parameter and its schema.
        """
        resolved = self.defaults()
        resolved.update(overrides or {})
        properties = self.parameters.get("properties", {})
        unknown = sorted(set(resolved) - set(properties))
        if unknown:
            raise ParameterError(
                f"method {self.name!r} has no parameter {unknown[0]!r}",
                f"its parameters are: {', '.join(sorted(properties)) or '(none)'}; "
                f"see `salmu-harness methods {self.name}`",
            )
        schema = {**self.parameters, "additionalProperties": False}
        validator = jsonschema.Draft202012Validator(schema)
        errors = sorted(validator.iter_errors(resolved), key=lambda e: list(e.path))
        if errors:
            error = errors[0]
            key = error.path[0] if error.path else None
            where = f"parameter {key!r}" if key is not None else "parameters"
            spec = properties.get(key, schema) if key is not None else schema
            raise ParameterError(
                f"method {self.name!r}: {where} = {error.instance!r} is invalid: {error.message}",
                f"schema of {where}: {_compact(spec)}",
            )
        return resolved


def _compact(spec: Mapping[str, Any]) -> str:
    keep = {k: v for k, v in spec.items() if k != "description"}
    return ", ".join(f"{k}={v!r}" for k, v in keep.items())
