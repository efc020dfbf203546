"""The evaluation settings: everything besides the model that decides the numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.evaluation.statistics import BootstrapSettings
from harness.protocol import EvaluationProtocol, protocol_from_json

#: the seed of every protocol draw unless a config says otherwise (the official evaluator's)
DEFAULT_EVALUATION_SEED = 42
#: how texts are padded for the text tower (see ``EvaluationSettings.text_padding``)
TEXT_PADDINGS = ("trimmed", "full")


@dataclass(frozen=True)
class EvaluationSettings:
    """Everything besides the model that decides the numbers; recorded in results.

    ``seed`` seeds every random draw of the protocol (RetFail's gallery, ACS's negatives and
    split); ``protocol`` is resolved from ``--protocol`` before anything is evaluated.
    ``text_padding``: ``trimmed`` encodes each text without its padding where the text tower
    is causal (``evaluation.short_text``), ``full`` at the whole context length as the
    official evaluator does; results recorded before the choice existed read as ``full``.
    """

    seed: int = DEFAULT_EVALUATION_SEED
    bootstrap: BootstrapSettings = field(default_factory=BootstrapSettings)
    keep_per_row: bool = True
    protocol: EvaluationProtocol | None = None
    text_padding: str = "trimmed"

    def __post_init__(self) -> None:
        if self.text_padding not in TEXT_PADDINGS:
            raise ValueError(f"text_padding must be one of {TEXT_PADDINGS}")

    def to_json(self) -> dict[str, Any]:
        recorded: dict[str, Any] = {
            "seed": self.seed,
            "bootstrap": self.bootstrap.to_json(),
            "text_padding": self.text_padding,
        }
        if self.protocol is not None:
            recorded["protocol"] = self.protocol.to_json()
        return recorded

    @classmethod
    def from_json(cls, recorded: dict[str, Any]) -> EvaluationSettings:
        """The settings a result recorded under ``evaluation`` (its protocol included)."""
        bootstrap = recorded["bootstrap"]
        protocol = recorded.get("protocol")
        return cls(
            seed=recorded["seed"],
            bootstrap=BootstrapSettings(
                seed=bootstrap["seed"], resamples=bootstrap["resamples"], level=bootstrap["level"]
            ),
            protocol=protocol_from_json(protocol, "the recorded protocol") if protocol else None,
            text_padding=recorded.get("text_padding", "full"),
        )
