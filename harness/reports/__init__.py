"""Turning results into conclusions: result tables, leaderboards and their formats, plots,
paired comparisons."""
