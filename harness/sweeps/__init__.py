"""Sweeps: methods x parameters x seeds x budgets, one harness run per trial, run on Ray.

``spec`` reads sweep files and keys trials, ``state`` keeps a sweep's folder, ``trial`` runs
one trial, ``ray_runner`` schedules trials on Ray (the only module that imports it),
``planning`` prints what a sweep will do, and ``selection`` chooses and reports settings fairly.
"""
