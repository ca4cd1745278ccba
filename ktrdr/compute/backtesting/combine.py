"""The equal-weight combination of several symbols' backtests.

Each symbol is a sleeve that starts with ``capital / N`` and trades on its own (the
engine is linear in capital, so a sleeve is the symbol's own backtest scaled by 1/N).
The combined equity at a time is the sum of every sleeve's last equity at or before it;
a sleeve whose window has not started yet holds its cash. Metrics are those of a single
backtest (:func:`compute_metrics`) on that curve, with every sleeve's trades; exposure
is the fraction of capital-bars in the market (a sleeve holds 1/N of the capital).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from ktrdr.compute.backtesting.engine import BacktestResult
from ktrdr.compute.backtesting.metrics import compute_metrics


def combine_equal_weight(
    runs: Sequence[BacktestResult], bars_per_year: float, risk_free_rate: float = 0.0
) -> BacktestResult:
    """One result for the whole portfolio: its equity curve, trades and metrics.

    Every run must start with the same capital, which the combination starts with too.
    """
    if not runs:
        raise ValueError("need at least one backtest to combine")
    capital = runs[0].initial_capital
    if any(run.initial_capital != capital for run in runs):
        raise ValueError("the backtests to combine must start with the same capital")
    n = len(runs)
    index = pd.DatetimeIndex(sorted(set().union(*(run.timestamps for run in runs))))
    equity = np.zeros(len(index))
    for run in runs:
        equity += _sleeve_on(index, run) / n
    trades = [t for run in runs for t in run.trades]
    pnls = np.array([t.pnl / n for t in trades], dtype=np.float64)
    holding = np.array([t.holding_bars for t in trades], dtype=np.float64)
    metrics = compute_metrics(equity, pnls, holding, bars_per_year, risk_free_rate)
    metrics["exposure"] = float(holding.sum() / (n * len(index)))
    # The trades stay with their symbols' results (their pnl is at full capital there).
    return BacktestResult(metrics, [], index, equity, capital)


def _sleeve_on(index: pd.DatetimeIndex, run: BacktestResult) -> npt.NDArray[np.float64]:
    """The run's equity carried forward onto ``index``: its capital before its first bar."""
    at = run.timestamps.searchsorted(index, side="right") - 1
    return np.where(at >= 0, run.equity[np.clip(at, 0, None)], run.initial_capital)
