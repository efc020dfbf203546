"""``python -m harness.cli``: the ``salmu-harness`` command line."""

from harness.cli import main

main()
