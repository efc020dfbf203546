"""Run settings: one parser per concept (diagnosis rules)."""

from __future__ import annotations

import pytest

from harness.errors import ParameterError
from harness.run.settings import rules_from


@pytest.mark.parametrize("bad", ["genknow_drop=-1", "genknow_drop=NaN", "genknow_drop=x"])
def test_run_and_reproduce_refuse_the_same_rules(bad: str) -> None:
    """One parser for ``--rule``: what ``run`` refuses, ``reproduce`` refuses too."""
    from click.testing import CliRunner

    from harness.cli import main

    with pytest.raises(ParameterError, match="must be a non-negative number"):
        rules_from([bad])
    result = CliRunner().invoke(main, ["reproduce", "paper", "--plan", "--rule", bad])
    assert result.exit_code == 2 and "must be a non-negative number" in result.output
