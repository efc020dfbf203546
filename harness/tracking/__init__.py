"""Experiment tracking: the ``Reporter`` a plugin registers (``reporter``), and the passing of a
run's events to the sessions of the reporters a user chose with ``--report-to`` (``events``)."""
