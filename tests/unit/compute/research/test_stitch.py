"""Stitching folds: each fold's equity starts where the last ended; metrics and buy and
hold come from the backtest engine's own functions, over exactly the stitched bars."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ktrdr.compute.backtesting.benchmark import buy_and_hold
from ktrdr.compute.backtesting.config import BacktestConfig
from ktrdr.compute.research.stitch import stitch_folds
from ktrdr.research.data.store import DataStore


def fold(bars: list, values: list[float], pnls: list[float]) -> dict:
    return {
        "initial_capital": values[0],
        "equity_curve": [[b.timestamp.isoformat(), v] for b, v in zip(bars, values, strict=True)],
        "trades": [{"pnl": p, "holding_bars": 2} for p in pnls],
    }


def test_folds_chain_and_are_measured_against_buy_and_hold(tmp_path: Path) -> None:
    store = DataStore(tmp_path)  # the bundled samples
    bars = store.read_bars("IBM", "1d", "2010-01-01", "2010-03-01")
    first, second = bars[:10], bars[10:20]
    stitched = stitch_folds(
        [
            fold(first, [100.0] * 5 + [110.0] * 5, [10.0]),
            fold(second, [100.0] * 5 + [50.0] * 5, [-50.0]),  # halves the money it got
        ],
        store,
        "IBM",
        "1d",
    )["stitched"]
    assert stitched["bars"] == 20
    assert stitched["final_equity"] == pytest.approx(55.0)
    assert stitched["metrics"]["total_return"] == pytest.approx(-0.45)
    assert stitched["metrics"]["num_trades"] == 2
    assert stitched["metrics"]["win_rate"] == pytest.approx(0.5)
    assert stitched["metrics"]["max_drawdown"] == pytest.approx(0.5)
    assert stitched["fold_starts"] == [
        first[0].timestamp.isoformat(),
        second[0].timestamp.isoformat(),
    ]
    curve = stitched["curve"]
    assert curve["equity"][9:12] == [110.0, 110.0, 110.0]  # no jump at the fold boundary
    window = first + second
    expected = buy_and_hold(
        pd.DatetimeIndex([b.timestamp for b in window]),
        [b.open for b in window],
        [b.close for b in window],
        BacktestConfig(initial_capital=100.0),
    )
    assert stitched["benchmark"]["total_return"] == pytest.approx(expected.metrics["total_return"])
    assert stitched["excess_return"] == pytest.approx(-0.45 - expected.metrics["total_return"])
