"""Reproducing a published table: a grid of every method run as a sweep, fairly selected, and
the selected settings' verdicts set beside the paper's (``salmu-harness reproduce``)."""
