"""Which of a persona's eight data fields go to ``forget`` and which to a holdout split.

Personas come in three groups, in the order ``make_personas`` returns them:
``forget_identity_personas`` with all 8 fields in ``forget``; ``forget_association_personas``
with 3-5 seeded fields in ``forget`` and the rest in ``holdout_association``;
``holdout_identity_personas`` with all 8 fields in ``holdout_identity``.
"""

from __future__ import annotations

import numpy as np

from harness.builtin.mini.personas import DATA_FIELDS, Persona
from harness.builtin.mini.scales import MiniScale

__all__ = ["FORGET_FIELDS_RANGE", "FieldPlan", "field_plan"]

FORGET_FIELDS_RANGE = (3, 5)  # forget_association personas: fields in forget, inclusive
#: identity_id -> (forget fields, holdout fields, holdout split name)
FieldPlan = dict[str, tuple[tuple[str, ...], tuple[str, ...], str]]


def field_plan(scale: MiniScale, personas: list[Persona], rng: np.random.Generator) -> FieldPlan:
    """Each persona's forget fields, holdout fields and holdout split, drawn with ``rng``."""
    plan: FieldPlan = {}
    n_fi, n_fa = scale.forget_identity_personas, scale.forget_association_personas
    low, high = FORGET_FIELDS_RANGE
    for ordinal, persona in enumerate(personas):
        if ordinal < n_fi:
            plan[persona.identity_id] = (DATA_FIELDS, (), "holdout_association")
        elif ordinal < n_fi + n_fa:
            count = int(rng.integers(low, high + 1))
            chosen = set(rng.choice(len(DATA_FIELDS), size=count, replace=False).tolist())
            forget = tuple(f for i, f in enumerate(DATA_FIELDS) if i in chosen)
            holdout = tuple(f for i, f in enumerate(DATA_FIELDS) if i not in chosen)
            plan[persona.identity_id] = (forget, holdout, "holdout_association")
        else:
            plan[persona.identity_id] = ((), DATA_FIELDS, "holdout_identity")
    return plan
