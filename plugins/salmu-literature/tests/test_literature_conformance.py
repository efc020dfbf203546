"""Every literature method passes salmu-harness's conformance checks."""

import pytest
from salmu_literature.methods import METHODS

pytestmark = pytest.mark.slow  # builds the test-scale SALMU-mini on first use


@pytest.mark.parametrize("name", [m.name for m in METHODS])
def test_conformance(salmu_check_method, name):
    salmu_check_method(name)


def test_delete_pair_masking_variant(salmu_check_method):
    salmu_check_method("delete", {"mask": "pair"})
