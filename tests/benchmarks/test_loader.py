"""What a benchmark plugin registers: names checked, options refused by name, load() checked."""

from __future__ import annotations

import pytest

from harness.benchmarks.loader import BenchmarkLoader
from harness.errors import BenchmarkError, PluginError


def test_a_name_users_could_not_type_is_refused() -> None:
    for bad in ("", "My Bench", "a/b", "-x"):
        with pytest.raises(PluginError, match="benchmark name"):
            BenchmarkLoader(name=bad, description="d", load=lambda options: None)


def test_an_undeclared_option_names_the_declared_ones() -> None:
    loader = BenchmarkLoader(
        name="b", description="d", load=lambda options: None, options={"root": "where"}
    )
    with pytest.raises(BenchmarkError, match="b has no option 'rot'") as raised:
        loader({"rot": "x"})
    assert raised.value.hint == "its options are: root"


def test_load_returning_something_else_is_a_plugin_error_not_a_traceback() -> None:
    loader = BenchmarkLoader(name="b", description="d", load=lambda options: {"not": "one"})
    with pytest.raises(PluginError, match=r"load\(\) returned dict, not a harness.Benchmark"):
        loader({})
