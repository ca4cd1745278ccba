"""Fuzzy memberships of indicator values (compute stack: numpy and pandas)."""

from ktrdr.compute.fuzzy.membership import (
    fuzzify,
    gaussian,
    membership,
    trapezoidal,
    triangular,
)

__all__ = ["fuzzify", "gaussian", "membership", "trapezoidal", "triangular"]
