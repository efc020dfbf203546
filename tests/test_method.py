"""Method declarations and parameter resolution."""

from __future__ import annotations

import pytest

from harness import Method, ParameterError, PluginError

SCHEMA = {
    "type": "object",
    "properties": {
        "lr": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 1e-5},
        "steps": {"type": "integer", "minimum": 1, "default": 10},
    },
}


def method(**kwargs) -> Method:
    return Method(
        **{
            "name": "demo",
            "description": "Demo.\nMore.",
            "version": "1",
            "unlearn": lambda ctx, params: ctx.model,
            "parameters": SCHEMA,
            **kwargs,
        }
    )


def test_defaults_are_filled_and_overrides_apply() -> None:
    assert method().resolve_parameters({"steps": 3}) == {"lr": 1e-5, "steps": 3}
    assert method().summary == "Demo."


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"lrr": 0.1}, "no parameter 'lrr'"),
        ({"lr": "fast"}, "parameter 'lr' = 'fast' is invalid"),
        ({"lr": 2.0}, "parameter 'lr' = 2.0 is invalid"),
        ({"steps": 0}, "parameter 'steps' = 0 is invalid"),
        ({"steps": 1.5}, "parameter 'steps' = 1.5 is invalid"),
    ],
)
def test_bad_parameters_name_the_parameter_and_its_schema(overrides, needle) -> None:
    with pytest.raises(ParameterError) as error:
        method().resolve_parameters(overrides)
    assert needle in error.value.message
    assert error.value.hint  # the schema or the list of parameters


def test_unknown_key_lists_the_known_parameters() -> None:
    with pytest.raises(ParameterError) as error:
        method().resolve_parameters({"lrr": 0.1})
    assert "lr, steps" in error.value.hint


def test_invalid_declarations_are_refused() -> None:
    with pytest.raises(PluginError, match="invalid"):
        method(name="Bad Name")
    with pytest.raises(PluginError, match="not a valid JSON Schema"):
        method(parameters={"type": "object", "properties": {"x": {"type": "nonsense"}}})
    with pytest.raises(PluginError, match="type object"):
        method(parameters={"type": "array"})
