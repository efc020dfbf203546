"""Every baseline passes salmu-harness's conformance checks (the plugin kit's fixture)."""

import pytest
from salmu_baselines.methods import METHODS

pytestmark = pytest.mark.slow  # builds the test-scale SALMU-mini on first use


@pytest.mark.parametrize("name", [m.name for m in METHODS])
def test_conformance(salmu_check_method, name):
    salmu_check_method(name)


def test_neggrad_plus_reads_retain_data(salmu_check_method):
    salmu_check_method("neggrad", {"retain_weight": 0.95})
