"""Buy-and-hold benchmark and the report's chart series, against hand computations.

Costs are 1 % commission and 1 % slippage so that fills are round numbers (as in
test_backtest_engine): a buy at open 100 fills at 101, a sell at close 120 at 118.8.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ktrdr.compute.backtesting.benchmark import buy_and_hold, excess_return
from ktrdr.compute.backtesting.chart import chart_series
from ktrdr.compute.backtesting.config import BacktestConfig
from ktrdr.compute.backtesting.metrics import METRIC_KEYS

COSTS = BacktestConfig(initial_capital=10_100.0, commission=0.01, slippage=0.01)


def _stamps(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC")


def test_buy_and_hold_by_hand() -> None:
    # Bought at bar 1's open: 100 * 1.01 = 101, units = 10_100 / 101 = 100,
    #   commission 0.01 * 100 * 101 = 101, cash = -101.
    # Equity: bar 0 = 10_100 (nothing filled yet), bar 1 = -101 + 100 * 105 = 10_399,
    #   bar 2 = -101 + 100 * 115 = 11_399.
    # Sold at the last close: 120 * 0.99 = 118.8, proceeds 11_880, commission 118.8,
    #   cash = -101 + 11_880 - 118.8 = 11_660.2.
    result = buy_and_hold(_stamps(4), [100, 100, 110, 120], [100, 105, 115, 120], COSTS)
    assert result.equity.tolist() == pytest.approx([10_100, 10_399, 11_399, 11_660.2])
    assert list(result.metrics) == list(METRIC_KEYS)
    m = result.metrics
    assert m["total_return"] == pytest.approx(11_660.2 / 10_100 - 1)
    assert m["num_trades"] == 1
    assert m["win_rate"] == 1.0
    assert m["max_drawdown"] == 0.0
    assert m["exposure"] == pytest.approx(3 / 4)  # bars 1, 2, 3 held
    assert m["avg_holding_bars"] == 3
    assert math.isinf(m["profit_factor"])  # a gain and no loss
    (trade,) = result.trades
    assert (trade.side, trade.entry_price, trade.exit_price) == ("long", 101.0, 118.8)
    assert trade.pnl == pytest.approx(1_560.2)
    assert trade.exit_reason == "end_of_data"


def test_buy_and_hold_through_a_loss_has_a_drawdown() -> None:
    # Bought at 101 (100 units, cash -101); close 80 -> equity 7_899; sold at 90 * 0.99.
    result = buy_and_hold(_stamps(3), [100, 100, 85], [100, 80, 90], COSTS)
    final = -101 + 100 * 89.1 - 0.01 * 100 * 89.1
    assert result.equity.tolist() == pytest.approx([10_100, 7_899, final])
    assert result.metrics["max_drawdown"] == pytest.approx(1 - 7_899 / 10_100)
    assert result.metrics["total_return"] == pytest.approx(final / 10_100 - 1)


def test_a_single_bar_stays_in_cash() -> None:
    result = buy_and_hold(_stamps(1), [100], [100], COSTS)
    assert result.trades == []
    assert result.metrics["total_return"] == 0.0


def test_excess_return_is_the_difference_of_total_returns() -> None:
    assert excess_return(0.10, 0.25) == pytest.approx(-0.15)
    assert excess_return(0.3, -0.1) == pytest.approx(0.4)


def _bars(n: int) -> pd.DataFrame:
    base = np.arange(1, n + 1, dtype=float)
    return pd.DataFrame(
        {"open": base, "high": base + 0.5, "low": base - 0.5, "close": base + 0.25},
        index=_stamps(n),
    )


def test_chart_series_keeps_every_bar_below_the_bound() -> None:
    bars = _bars(5)
    chart = chart_series(bars, np.arange(5) * 10.0, np.arange(5) * 20.0, max_bars=10)
    assert chart["step"] == 1
    assert chart["bars"] == 5
    assert chart["time"][0] == int(pd.Timestamp("2024-01-01", tz="UTC").timestamp())
    assert chart["time"][1] - chart["time"][0] == 86_400
    assert chart["open"] == [1, 2, 3, 4, 5]
    assert chart["close"] == [1.25, 2.25, 3.25, 4.25, 5.25]
    assert chart["equity"] == [0, 10, 20, 30, 40]
    assert chart["benchmark_equity"] == [0, 20, 40, 60, 80]


def test_chart_series_merges_candles_above_the_bound() -> None:
    bars = _bars(7)  # step 3: bars 0-2, 3-5, 6
    chart = chart_series(bars, np.arange(7) * 1.0, np.arange(7) * 2.0, max_bars=3)
    assert chart["step"] == 3
    assert chart["bars"] == 7
    assert len(chart["time"]) == 3
    assert chart["open"] == [1, 4, 7]  # first open of each candle
    assert chart["high"] == [3.5, 6.5, 7.5]  # highest high
    assert chart["low"] == [0.5, 3.5, 6.5]  # lowest low
    assert chart["close"] == [3.25, 6.25, 7.25]  # last close
    assert chart["equity"] == [2, 5, 6]  # equity at each candle's last bar
    assert chart["benchmark_equity"] == [4, 10, 12]
