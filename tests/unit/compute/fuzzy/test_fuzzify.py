"""fuzzify: one column per term, named "<set_id>.<term>", on the input's index."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ktrdr.compute.fuzzy import fuzzify
from ktrdr.research.strategies.schema import FuzzySetConfig


def _rsi_zones() -> FuzzySetConfig:
    return FuzzySetConfig.model_validate(
        {
            "indicator": "rsi_14",
            "oversold": [0, 20, 40],
            "neutral": [30, 50, 70],
            "overbought": {"type": "trapezoidal", "parameters": [60, 80, 100, 100]},
        }
    )


def test_columns_follow_term_order_and_index():
    index = pd.date_range("2024-01-01", periods=5, freq="D")
    values = pd.Series([np.nan, 10.0, 35.0, 50.0, 100.0], index=index, name="rsi_14.value")
    out = fuzzify("rsi_zones", _rsi_zones(), values)

    assert list(out.columns) == ["rsi_zones.oversold", "rsi_zones.neutral", "rsi_zones.overbought"]
    assert out.index.equals(index)
    assert out.iloc[0].isna().all()
    np.testing.assert_allclose(
        out.iloc[1:].to_numpy(), [[0.5, 0, 0], [0.25, 0.25, 0], [0, 1, 0], [0, 0, 1]]
    )


def test_term_order_is_kept_not_sorted():
    fuzzy_set = FuzzySetConfig.model_validate(
        {"indicator": "x", "zeta": [0, 1, 2], "alpha": [1, 2, 3], "mid": [0, 2, 4]}
    )
    out = fuzzify("s", fuzzy_set, pd.Series([1.0, 2.0]))
    assert list(out.columns) == ["s.zeta", "s.alpha", "s.mid"]


def test_empty_series():
    out = fuzzify("rsi_zones", _rsi_zones(), pd.Series([], dtype=np.float64))
    assert out.shape == (0, 3)
