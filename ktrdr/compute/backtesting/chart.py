"""The series a backtest report draws, in a compact, bounded form.

Columns rather than rows (one list per field) keep the JSON small; a series longer than
:data:`MAX_CHART_BARS` is merged into candles of ``step`` consecutive bars (first open,
highest high, lowest low, last close, last equity), so a report never carries more than
that many points whatever the backtest's length.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

MAX_CHART_BARS = 10_000
PRICE_DIGITS = 7  # significant digits kept of a price
EQUITY_DECIMALS = 2  # cents


def chart_series(
    bars: pd.DataFrame,
    equity: npt.ArrayLike,
    benchmark_equity: npt.ArrayLike,
    max_bars: int = MAX_CHART_BARS,
) -> dict[str, Any]:
    """``time`` (Unix seconds of each candle's first bar), OHLC, equity and benchmark.

    ``bars`` is the backtest's OHLC frame (a UTC ``DatetimeIndex``), ``equity`` and
    ``benchmark_equity`` one value per bar.
    """
    n = len(bars)
    step = max(1, math.ceil(n / max_bars))
    starts = np.arange(0, n, step)
    ends = np.minimum(starts + step, n) - 1
    seconds = pd.DatetimeIndex(bars.index).as_unit("s").asi8  # Unix seconds (UTC)
    highs = np.maximum.reduceat(bars["high"].to_numpy(dtype=np.float64), starts)
    lows = np.minimum.reduceat(bars["low"].to_numpy(dtype=np.float64), starts)
    return {
        "step": step,
        "bars": int(n),
        "time": seconds[starts].tolist(),
        "open": _prices(bars["open"].to_numpy(dtype=np.float64)[starts]),
        "high": _prices(highs),
        "low": _prices(lows),
        "close": _prices(bars["close"].to_numpy(dtype=np.float64)[ends]),
        "equity": _money(np.asarray(equity, dtype=np.float64)[ends]),
        "benchmark_equity": _money(np.asarray(benchmark_equity, dtype=np.float64)[ends]),
    }


def _prices(values: npt.NDArray[np.float64]) -> list[float | None]:
    return [float(f"{v:.{PRICE_DIGITS}g}") if math.isfinite(v) else None for v in values.tolist()]


def _money(values: npt.NDArray[np.float64]) -> list[float | None]:
    rounded = np.round(values, EQUITY_DECIMALS).tolist()
    return [v if math.isfinite(v) else None for v in rounded]
