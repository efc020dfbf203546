"""Settings files (run configs, sweeps): JSON or YAML, read into a mapping or a clear error.

PyYAML (YAML 1.1) reads ``1e-5`` as a string: it wants a dot in a float's mantissa
(``1.0e-5``), and learning rates are written ``1e-5``. :func:`load_yaml` is ``yaml.safe_load``
with YAML 1.2's float syntax added, nothing else.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from harness.errors import ParameterError

FLOAT_1_2 = re.compile(
    r"""^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)


def load_yaml(text: str) -> Any:
    """Parse ``text`` safely (no Python objects), reading ``1e-5`` as the number it is."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver("tag:yaml.org,2002:float", FLOAT_1_2, list("-+0123456789."))
    return yaml.load(text, Loader=Loader)  # a SafeLoader subclass: no Python objects


def read_mapping_file(path: Path, what: str) -> dict[str, Any]:
    """The mapping in the JSON or YAML file ``path``; ``what`` names it in error messages."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    try:
        data = load_yaml(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except ImportError as exc:
        raise ParameterError(f"{path}: reading YAML needs PyYAML", "pip install pyyaml") from exc
    except Exception as exc:
        raise ParameterError(f"{what} {path} cannot be parsed: {exc}") from exc
    if not isinstance(data, dict):
        raise ParameterError(f"{what} {path} must hold a mapping of settings")
    return data
