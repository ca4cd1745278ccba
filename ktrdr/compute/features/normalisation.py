"""z-scores for raw indicator inputs, fitted on training rows and stored with the model.

Fuzzy memberships are already in [0, 1] and pass through unchanged.
"""

from __future__ import annotations

import pandas as pd


def fit_normalisation(train: pd.DataFrame, columns: list[str]) -> dict[str, dict[str, float]]:
    params = {}
    for column in columns:
        values = train[column]
        std = float(values.std(ddof=0))
        params[column] = {"mean": float(values.mean()), "std": std if std > 0 else 1.0}
    return params


def apply_normalisation(frame: pd.DataFrame, params: dict[str, dict[str, float]]) -> pd.DataFrame:
    out = frame.copy()
    for column, p in params.items():
        out[column] = (out[column] - p["mean"]) / p["std"]
    return out
