"""Worker processes: the HTTP runtime that takes operations from the backend and runs them.

Nothing here imports the compute stack at module level; the entry module
(:mod:`ktrdr.workers.entry`) checks for it first and only then imports the jobs.
"""
