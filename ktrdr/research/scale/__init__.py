"""Research at scale, the parts without numpy: walk-forward folds and sweep spaces.

The backend checks a request with these before it queues anything; the drivers (in a
research worker) use the same functions, so both see the same folds and the same space.
"""
