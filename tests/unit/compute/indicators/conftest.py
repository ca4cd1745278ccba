"""A deterministic synthetic OHLCV frame shared by the indicator tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def synthetic_ohlcv(bars: int = 300, seed: int = 7) -> pd.DataFrame:
    """A seeded geometric random walk with consistent bars (low <= open, close <= high)."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015, bars)))
    open_ = np.concatenate([[close[0]], close[:-1]]) * (1 + rng.normal(0.0, 0.003, bars))
    high = np.maximum(open_, close) * (1 + rng.uniform(0.0, 0.01, bars))
    low = np.minimum(open_, close) * (1 - rng.uniform(0.0, 0.01, bars))
    volume = rng.uniform(1e5, 1e6, bars).round()
    index = pd.date_range("2020-01-01", periods=bars, freq="D", name="timestamp")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


def frame_from_close(close: list[float], volume: list[float] | None = None) -> pd.DataFrame:
    """A frame whose open/high/low equal the close: for close-only hand checks."""
    values = np.asarray(close, dtype=np.float64)
    vol = np.ones_like(values) if volume is None else np.asarray(volume, dtype=np.float64)
    index = pd.date_range("2021-01-01", periods=len(values), freq="D")
    return pd.DataFrame(
        {"open": values, "high": values, "low": values, "close": values, "volume": vol},
        index=index,
    )


@pytest.fixture(scope="session")
def ohlcv() -> pd.DataFrame:
    frame = synthetic_ohlcv()
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
    return frame


@pytest.fixture(scope="session")
def close_frame():
    return frame_from_close
