"""Vectorised fuzzy membership functions and the fuzzification of an indicator series.

Every function maps an array of any shape to memberships in [0, 1] of the same shape;
NaN in gives NaN out (an undefined indicator value has no membership). Parameters are
checked here too, so the functions are safe to use without the strategy schema.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from ktrdr.research.strategies.schema import FuzzySetConfig, MembershipFunction

ArrayLike = npt.ArrayLike


def _check_finite(name: str, **params: float) -> None:
    for key, value in params.items():
        if not math.isfinite(value):
            raise ValueError(f"{name}: parameter {key} must be a finite number, got {value!r}")


def _as_array(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _trapezoid(x: np.ndarray, a: float, b: float, c: float, d: float) -> np.ndarray:
    # The plateau is closed, so an edge with a == b (or c == d) is vertical and x == a
    # (or x == d) still belongs fully; the ramps are open intervals, never divided by 0.
    y = np.zeros_like(x)
    rising = (x > a) & (x < b)
    y[rising] = (x[rising] - a) / (b - a)
    y[(x >= b) & (x <= c)] = 1.0
    falling = (x > c) & (x < d)
    y[falling] = (d - x[falling]) / (d - c)
    y[np.isnan(x)] = np.nan
    return np.asarray(np.clip(y, 0.0, 1.0))


def trapezoidal(x: ArrayLike, a: float, b: float, c: float, d: float) -> np.ndarray:
    """0 up to ``a``, rising to 1 at ``b``, 1 up to ``c``, falling to 0 at ``d``.

    Requires a <= b <= c <= d and a < d; ``[0, 0, 15, 25]`` is a left shoulder (1 at 0).
    """
    _check_finite("trapezoidal", a=a, b=b, c=c, d=d)
    if not (a <= b <= c <= d) or a == d:
        raise ValueError(f"trapezoidal: expected a <= b <= c <= d with a < d, got {[a, b, c, d]}")
    return _trapezoid(_as_array(x), a, b, c, d)


def triangular(x: ArrayLike, a: float, b: float, c: float) -> np.ndarray:
    """0 up to ``a``, rising to 1 at the peak ``b``, falling to 0 at ``c``.

    Requires a <= b <= c and a < c; ``a == b`` or ``b == c`` makes that edge vertical.
    """
    _check_finite("triangular", a=a, b=b, c=c)
    if not (a <= b <= c) or a == c:
        raise ValueError(f"triangular: expected a <= b <= c with a < c, got {[a, b, c]}")
    return _trapezoid(_as_array(x), a, b, b, c)


def gaussian(x: ArrayLike, mean: float, sigma: float) -> np.ndarray:
    """exp(-(x - mean)^2 / (2 sigma^2)): 1 at the mean, never exactly 0. Requires sigma > 0."""
    _check_finite("gaussian", mean=mean, sigma=sigma)
    if sigma <= 0:
        raise ValueError(f"gaussian: expected sigma > 0, got {sigma!r}")
    z = (_as_array(x) - mean) / sigma
    return np.asarray(np.exp(-0.5 * z * z))  # ufuncs turn 0-d arrays into scalars


def membership(fn: MembershipFunction, x: ArrayLike) -> np.ndarray:
    """The membership of ``x`` in one fuzzy term."""
    p = [float(v) for v in fn.parameters]
    if fn.type == "triangular" and len(p) == 3:
        return triangular(x, *p)
    if fn.type == "trapezoidal" and len(p) == 4:
        return trapezoidal(x, *p)
    if fn.type == "gaussian" and len(p) == 2:
        return gaussian(x, *p)
    raise ValueError(f"{fn.type}: unsupported membership function or parameters {p}")


def fuzzify(set_id: str, fuzzy_set: FuzzySetConfig, values: pd.Series) -> pd.DataFrame:
    """Memberships of ``values`` in every term: columns ``"<set_id>.<term>"`` in term order."""
    x = values.to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {f"{set_id}.{term}": membership(fn, x) for term, fn in fuzzy_set.terms.items()},
        index=values.index,
    )
