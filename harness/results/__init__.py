"""Result documents: building, writing, reading, validating and bundling them.

Modules here are imported one by one (this package imports nothing): ``validate`` stays free of
torch.
"""
