"""Reproduction files: the paper's numbers and failure modes, and the grid that reproduces them.

A reproduction names, per method, the paper's values (RetFail MRR, GenKnow, InterIdSim,
IntraIdSim) and the failure modes the paper reports, plus the method's own grid dimension (its
main weight or form); each scale (``default``, ``test``) names the benchmark, the learning-rate
grid and, optionally, a smaller budget, other seeds, fixed parameters, or ``grid: false`` to
leave out the methods' own dimensions. ``sweep_for`` turns one scale into an ordinary sweep.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from harness.errors import ParameterError, UnknownNameError
from harness.storage import first_schema_error, read_mapping_file
from harness.sweeps.spec import Sweep

SCHEMA = "reproduction.schema.json"
#: reproductions shipped with the harness, by name
BUILTIN = ("paper",)


@dataclass(frozen=True)
class Reproduction:
    """A validated reproduction file."""

    name: str
    data: dict[str, Any]

    @property
    def methods(self) -> dict[str, dict[str, Any]]:
        """Method name -> its paper name, values, failure modes and own grid."""
        return dict(self.data["methods"])

    def scale(self, name: str) -> dict[str, Any]:
        """One scale's settings; a clear error for an unknown one."""
        scales = self.data["scales"]
        if name not in scales:
            raise UnknownNameError("scale", name, scales)
        return dict(scales[name])


def load_reproduction(spec: str) -> Reproduction:
    """The reproduction named ``spec`` (one of ``BUILTIN``) or read from the file ``spec``."""
    if spec in BUILTIN:
        text = resources.files("harness.reproduce").joinpath(f"{spec}.json").read_text("utf-8")
        data = json.loads(text)
        where = f"the built-in reproduction {spec!r}"
    elif Path(spec).is_file():
        data = read_mapping_file(Path(spec), "reproduction file")
        where = f"reproduction file {spec}"
    else:
        raise UnknownNameError("reproduction", spec, BUILTIN)
    error = first_schema_error(SCHEMA, data)
    if error is not None:
        path = "/".join(str(p) for p in error[0]) or "the top level"
        raise ParameterError(
            f"{where} is invalid at {path}: {error[1]}",
            "see docs/reproducing.md and schemas/reproduction.schema.json",
        )
    return Reproduction(data["name"], data)


def sweep_for(reproduction: Reproduction, scale_name: str) -> Sweep:
    """The sweep that runs ``reproduction`` at one scale: every method x the learning rates x
    its own grid dimension, at the reproduction's budget and seeds."""
    scale = reproduction.scale(scale_name)
    methods: dict[str, dict[str, Any]] = {}
    for method, entry in reproduction.methods.items():
        parameters: dict[str, Any] = dict(scale.get("fixed", {}))
        parameters["lr"] = {"grid": list(scale["lr"])}
        if scale.get("grid", True):
            parameters.update({k: {"grid": list(v)} for k, v in entry.get("grid", {}).items()})
        methods[method] = {"parameters": parameters}
    return Sweep(
        methods=methods,
        name=f"reproduce-{reproduction.name}-{scale_name}",
        benchmark=scale["benchmark"],
        benchmark_options=dict(scale.get("benchmark_options", {})),
        protocol=reproduction.data.get("protocol", "official"),
        seeds=[int(s) for s in scale.get("seeds", reproduction.data["seeds"])],
        budgets=[float(scale.get("budget", reproduction.data["budget"]))],
        resources={"cpus": 1, "gpus": 0},
        selection=dict(reproduction.data["selection"]),
    )
