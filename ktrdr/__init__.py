"""ktrdr: neuro-fuzzy trading strategy research."""

__version__ = "0.1.0"
