"""YAML with numbers as people write them: PyYAML (YAML 1.1) reads ``1e-5`` as a string.

YAML 1.1 wants a dot in a float's mantissa (``1.0e-5``); learning rates are written ``1e-5``.
:func:`load_yaml` is ``yaml.safe_load`` with YAML 1.2's float syntax added, nothing else.
"""

from __future__ import annotations

import re
from typing import Any

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
