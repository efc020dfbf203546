"""The sizes of SALMU-mini's variants: ``default`` (the benchmark) and ``test`` (unit tests)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class MiniScale:
    """Sizes of one SALMU-mini variant.

    ``retain_disjoint_rows`` counts all of retain_disjoint: ``retain_portrait_rows`` portraits
    of non-sensitive passers-by, the rest scenes (``fragile_rows`` of them with a face glyph).
    """

    name: str
    forget_identity_personas: int
    forget_association_personas: int
    holdout_identity_personas: int
    rows_per_attribute: int
    retain_joint_rows: int
    retain_disjoint_rows: int
    fragile_rows: int
    pretraining_rows: int
    genknow_per_class: int
    longest_side: int
    retain_portrait_rows: int = 0

    def __post_init__(self) -> None:
        counts = asdict(self)
        del counts["name"]
        if any(value < 0 for value in counts.values()):
            raise ValueError(f"scale {self.name!r} has a negative size")
        if self.fragile_rows + self.retain_portrait_rows > self.retain_disjoint_rows:
            raise ValueError(
                "fragile_rows + retain_portrait_rows cannot exceed retain_disjoint_rows"
            )
        if (self.retain_joint_rows or self.fragile_rows) and not self.forget_personas:
            raise ValueError("retain_joint and fragile rows need at least one forget persona")
        if self.longest_side < 8:
            raise ValueError("longest_side must be at least 8 pixels")

    @property
    def forget_personas(self) -> int:
        """Personas with rows in ``forget`` (forget_identity + forget_association)."""
        return self.forget_identity_personas + self.forget_association_personas

    @property
    def personas(self) -> int:
        """All personas."""
        return self.forget_personas + self.holdout_identity_personas


SCALES: dict[str, MiniScale] = {
    "default": MiniScale(
        name="default",
        forget_identity_personas=30,
        forget_association_personas=60,
        holdout_identity_personas=30,
        rows_per_attribute=4,
        retain_joint_rows=1000,
        retain_disjoint_rows=3000,
        fragile_rows=200,
        pretraining_rows=6000,
        genknow_per_class=250,  # 12,000 images, a quarter of ImageNet val
        longest_side=64,
        retain_portrait_rows=1000,
    ),
    "test": MiniScale(
        name="test",
        forget_identity_personas=4,
        forget_association_personas=6,
        holdout_identity_personas=4,
        rows_per_attribute=2,
        retain_joint_rows=60,
        # > 1,000 so that the RetFail gallery leaves retain rows for methods to train on
        retain_disjoint_rows=1200,
        fragile_rows=24,
        pretraining_rows=480,
        genknow_per_class=3,
        longest_side=48,
        # none: the test scale's figures predate the portraits (a custom scale tests them)
        retain_portrait_rows=0,
    ),
}
