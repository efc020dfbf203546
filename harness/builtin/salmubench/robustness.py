"""The robustness metrics (keys 3.x): is the forgetting real, or only hidden?

Opt-in by name: ``--metrics robustness`` (the group) or by key. Each attacks a copy of the
model (relearning, quantization) or compares it row by row with Clean (membership); the
harness applies the same metric to Clean and Compromised, so every number stands beside what
the attack gives on a model that never learned the pairs and on one that did.
"""

from __future__ import annotations

from harness.builtin.salmubench.membership import membership_attack
from harness.builtin.salmubench.quantization import quantization_attack
from harness.builtin.salmubench.relearning import attribute_relearning_attack, relearning_attack
from harness.metric import Metric

RELEARN, QUANTIZE, MEMBERSHIP, RELEARN_ATTRIBUTES = "3.1", "3.2", "3.3", "3.4"

ROBUSTNESS_METRICS = (
    Metric(
        key=RELEARN,
        name="Relearn",
        description="RetFail MRR on half the forget identities after fine-tuning a copy of the "
        "model on "
        "the other half's pairs (0.25x the forget rows, lr 1e-4).",
        splits=("forget", "retain_disjoint"),
        direction="lower",
        target="clean",
        version="1",
        compute=relearning_attack,
        group="robustness",
        bounds=(-1.0, 1.0),  # RetFail in [0, 1], AssocStr among the values in [-1, 1]
        opt_in=True,
        cost="fine-tunes a copy for 0.25x the forget rows, then encodes forget and the RetFail "
        "gallery again",
    ),
    Metric(
        key=QUANTIZE,
        name="Quantize",
        description="RetFail MRR after 4-bit weight-only round-to-nearest quantization (8-bit "
        "and GenKnow "
        "after each among the values).",
        splits=("forget", "retain_disjoint"),
        direction="lower",
        target="clean",
        version="1",
        compute=quantization_attack,
        group="robustness",
        bounds=(0.0, 1.0),
        opt_in=True,
        cost="quantizes two copies (8 and 4 bits), encodes forget, the RetFail gallery and the "
        "zero-shot set again for each",
    ),
    Metric(
        key=MEMBERSHIP,
        name="MIA",
        description="How well a likelihood-ratio attack tells the model's forget rows from "
        "Clean's: "
        "max(AUC, 1 - AUC), 0.5 = indistinguishable; TPR at 1% FPR and a KS test too.",
        splits=("forget", "holdout_identity"),
        direction="lower",
        target="clean",
        version="1",
        compute=membership_attack,
        group="robustness",
        bounds=(0.0, 1.0),
        opt_in=True,
        cost="encodes forget and holdout_identity for Clean and Compromised once per process",
        reads_references=True,
    ),
    Metric(
        key=RELEARN_ATTRIBUTES,
        name="RelearnAttr",
        description="RetFail MRR on the private-attribute forget rows after fine-tuning a copy "
        "on the "
        "public-attribute ones (city, job, blood type).",
        splits=("forget", "retain_disjoint"),
        direction="lower",
        target="clean",
        version="1",
        compute=attribute_relearning_attack,
        group="robustness",
        bounds=(-1.0, 1.0),  # RetFail in [0, 1], AssocStr among the values in [-1, 1]
        opt_in=True,
        cost="fine-tunes a copy for 0.25x the forget rows, then encodes forget and the RetFail "
        "gallery again",
    ),
)
