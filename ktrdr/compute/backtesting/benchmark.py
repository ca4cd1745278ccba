"""Buy-and-hold of the same symbol over the same bars: what a backtest is measured against.

The benchmark goes through the same engine as the strategy, so it pays the same costs
and is measured by the same metric keys: a BUY decided at the first bar's close fills at
the second bar's open (the strategy's first chance to trade too), and the position is
closed at the last close like any position still open at the end.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from ktrdr.compute.backtesting.config import BacktestConfig
from ktrdr.compute.backtesting.engine import BUY, BacktestResult, run_backtest
from ktrdr.research.strategies.schema import DecisionsConfig

_HOLD_LONG = DecisionsConfig(
    confidence_threshold=0.0, position_awareness=True, allow_short_from_flat=False
)


def buy_and_hold(
    timestamps: pd.DatetimeIndex | npt.NDArray[np.datetime64],
    open_: npt.ArrayLike,
    close: npt.ArrayLike,
    config: BacktestConfig,
) -> BacktestResult:
    """Hold the symbol from the second bar's open to the last close (one trade).

    With a single bar there is nothing to fill: the benchmark stays in cash.
    """
    n = len(timestamps)
    signals = np.zeros(n, dtype=np.int8)
    signals[0] = BUY
    return run_backtest(timestamps, open_, close, signals, np.ones(n), _HOLD_LONG, config)


def excess_return(strategy_total: float, benchmark_total: float) -> float:
    """The strategy's total return minus the benchmark's (fractions: 0.05 = 5 points)."""
    return float(strategy_total - benchmark_total)
