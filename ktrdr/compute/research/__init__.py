"""The drivers of parent operations: walk-forward and sweep (numpy, Optuna).

A driver creates children through a :class:`~ktrdr.compute.research.children.Children`
(the backend's API in a research worker, this process with ``--local``), waits for them
and combines their results.
"""
