"""Metric functions on hand-made equity and return series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ktrdr.compute.backtesting import metrics as m

# Peaks:      100 120 120 120 130 130 130 130 130 140
# Below peak:   .   .   X   X   .   X   X   X   X   .  -> runs of 2 and 4 bars
# Drawdown at bar 2: 1 - 90/120 = 0.25 (deepest); at bars 5-8: 1 - 125/130 ~ 0.0385
HAND_EQUITY = [100.0, 120.0, 90.0, 110.0, 130.0, 125.0, 125.0, 125.0, 125.0, 140.0]

# mean = (0.01 - 0.02 + 0.03 + 0.00) / 4 = 0.005
# deviations from the mean: 0.005, -0.025, 0.025, -0.005
# sample variance = (25 + 625 + 625 + 25)e-6 / 3 = 1300e-6 / 3 -> std = sqrt(433.33e-6)
# downside: min(r, 0) = [0, -0.02, 0, 0] -> sqrt(0.0004 / 4) = 0.01
RETURNS = [0.01, -0.02, 0.03, 0.0]
STD = math.sqrt(1300e-6 / 3)


def test_max_drawdown_and_duration_on_hand_series() -> None:
    assert m.max_drawdown(HAND_EQUITY) == pytest.approx(0.25)
    # The longest spell under water (bars 5-8) is not the deepest one (bars 2-3).
    assert m.max_drawdown_duration(HAND_EQUITY) == 4


def test_drawdown_still_open_at_the_end_counts() -> None:
    # Peak 100 at bar 0, then 3 bars below it to the end.
    assert m.max_drawdown_duration([100.0, 99.0, 98.0, 99.5]) == 3
    assert m.max_drawdown([100.0, 99.0, 98.0, 99.5]) == pytest.approx(0.02)


def test_no_drawdown_on_rising_or_flat_equity() -> None:
    assert m.max_drawdown([1.0, 1.0, 2.0, 3.0]) == 0.0
    assert m.max_drawdown_duration([1.0, 1.0, 2.0, 3.0]) == 0
    assert m.calmar_ratio(0.3, 0.0) == 0.0


def test_bar_returns_and_total_return() -> None:
    np.testing.assert_allclose(m.bar_returns([100.0, 110.0, 99.0]), [0.1, -0.1])
    assert m.total_return([100.0, 110.0, 99.0]) == pytest.approx(-0.01)
    assert m.bar_returns([100.0]).size == 0


def test_annualized_return() -> None:
    # 10 % over 126 periods at 252 per year: 1.1 ** 2 - 1 = 0.21
    assert m.annualized_return(0.1, 126, 252) == pytest.approx(0.21)
    assert m.annualized_return(0.1, 0, 252) == 0.0
    assert m.annualized_return(-1.0, 10, 252) == -1.0


def test_volatility() -> None:
    assert m.volatility(RETURNS, 252) == pytest.approx(STD * math.sqrt(252))
    assert m.volatility([0.01], 252) == 0.0


def test_sharpe_on_known_returns() -> None:
    # 0.005 / 0.0208167 * sqrt(252) = 3.8130
    assert m.sharpe_ratio(RETURNS, 252) == pytest.approx(0.005 / STD * math.sqrt(252))
    assert m.sharpe_ratio(RETURNS, 252) == pytest.approx(3.8130, abs=1e-4)


def test_sharpe_with_risk_free_rate() -> None:
    # 0.252 a year over 252 bars = 0.001 a bar -> mean excess 0.004, same std.
    expected = 0.004 / STD * math.sqrt(252)
    assert m.sharpe_ratio(RETURNS, 252, 0.252) == pytest.approx(expected)


def test_sortino_on_known_returns() -> None:
    # 0.005 / 0.01 * sqrt(252) = 7.9373
    assert m.sortino_ratio(RETURNS, 252) == pytest.approx(0.5 * math.sqrt(252))


def test_ratios_are_zero_without_dispersion() -> None:
    assert m.sharpe_ratio([0.01, 0.01, 0.01], 252) == 0.0
    assert m.sortino_ratio([0.01, 0.02], 252) == 0.0  # no downside
    assert m.sharpe_ratio([], 252) == 0.0
    assert m.sortino_ratio([], 252) == 0.0


def test_trade_statistics() -> None:
    pnls = [100.0, -50.0, 30.0, -10.0, 0.0]
    # wins: 100, 30 -> 2 / 5; profit factor = 130 / 60
    assert m.win_rate(pnls) == pytest.approx(0.4)
    assert m.profit_factor(pnls) == pytest.approx(130 / 60)
    assert m.profit_factor([5.0]) == math.inf
    assert math.isnan(m.profit_factor([]))
    assert m.profit_factor([-5.0]) == 0.0
    assert m.win_rate([]) == 0.0


def test_compute_metrics_keys_and_values() -> None:
    out = m.compute_metrics(HAND_EQUITY, [10.0, -5.0], [3, 1], bars_per_year=252)
    assert tuple(out) == m.METRIC_KEYS
    assert out["max_drawdown"] == pytest.approx(0.25)
    assert out["max_drawdown_duration_bars"] == 4
    assert out["total_return"] == pytest.approx(0.4)
    # 9 periods: 1.4 ** (252 / 9) - 1
    assert out["annualized_return"] == pytest.approx(1.4**28 - 1)
    assert out["calmar_ratio"] == pytest.approx((1.4**28 - 1) / 0.25)
    assert out["num_trades"] == 2
    assert isinstance(out["num_trades"], int)
    assert isinstance(out["max_drawdown_duration_bars"], int)
    assert out["exposure"] == pytest.approx(4 / 10)
    assert out["avg_holding_bars"] == pytest.approx(2.0)
    assert out["win_rate"] == pytest.approx(0.5)
    assert out["profit_factor"] == pytest.approx(2.0)
