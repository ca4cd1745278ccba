"""Worker processes: the HTTP runtime that takes operations from the backend and runs them.

Nothing here imports the compute stack at module level; the worker entry points check
for it first (:mod:`ktrdr.workers.ml_check`) and import the compute code after.
"""
