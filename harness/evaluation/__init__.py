"""Evaluating a model: the metric context, the embedding engine, caches, references, statistics.

Modules here are imported one by one (this package imports nothing), so that light tools can
use ``harness.evaluation.scoring`` without torch.
"""
