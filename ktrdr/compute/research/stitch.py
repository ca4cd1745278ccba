"""Chain the folds' out-of-sample equity into one curve, and measure it.

Fold k's curve is scaled so that it starts where fold k-1 ended: the money carried
from one test window to the next. Its metrics come from the same functions as a
backtest's (``ktrdr.compute.backtesting.metrics``); the benchmark is buy and hold over
exactly the stitched bars, through the same engine and costs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ktrdr.compute.backtesting.benchmark import buy_and_hold, excess_return
from ktrdr.compute.backtesting.config import BacktestConfig
from ktrdr.compute.backtesting.engine import json_number
from ktrdr.compute.backtesting.metrics import compute_metrics
from ktrdr.core.timeframes import bars_per_year
from ktrdr.research.data.store import DataStore

MAX_CURVE_POINTS = 2_000  # what a report draws; the metrics use every bar


def stitch_folds(
    backtests: list[dict[str, Any]], store: DataStore, symbol: str, timeframe: str
) -> dict[str, Any]:
    """``stitched`` (metrics, curve, benchmark), from the folds' backtest results in order."""
    times: list[str] = []
    values: list[float] = []
    pnls: list[float] = []
    holding: list[int] = []
    boundaries: list[str] = []
    capital = float(backtests[0].get("initial_capital") or 100_000.0)
    carried = capital
    for backtest in backtests:
        curve = [(t, v) for t, v in backtest.get("equity_curve", []) if v is not None]
        if not curve:
            continue
        scale = carried / curve[0][1] if curve[0][1] else 1.0
        boundaries.append(curve[0][0])
        for stamp, value in curve:
            times.append(stamp)
            values.append(value * scale)
        for trade in backtest.get("trades", []):
            if trade.get("pnl") is not None:
                pnls.append(trade["pnl"] * scale)
                holding.append(int(trade.get("holding_bars") or 0))
        carried = values[-1]
    equity = np.asarray(values, dtype=np.float64)
    per_year = bars_per_year(timeframe)
    metrics = compute_metrics(equity, pnls, holding, per_year)
    bench_curve, bench_metrics = _benchmark(store, symbol, timeframe, times, capital, per_year)
    return {
        "stitched": {
            "bars": len(times),
            "start": times[0] if times else None,
            "end": times[-1] if times else None,
            "initial_capital": capital,
            "final_equity": json_number(values[-1]) if values else None,
            "metrics": {k: json_number(v) for k, v in metrics.items()},
            "benchmark": {k: json_number(v) for k, v in bench_metrics.items()},
            "excess_return": json_number(
                excess_return(metrics["total_return"], bench_metrics.get("total_return", 0.0))
            ),
            "fold_starts": boundaries,
            "curve": _thin(times, values, bench_curve),
        }
    }


def _benchmark(
    store: DataStore,
    symbol: str,
    timeframe: str,
    times: list[str],
    capital: float,
    per_year: float,
) -> tuple[list[float], dict[str, float | int]]:
    if len(times) < 2:
        return [capital] * len(times), {}
    wanted = pd.DatetimeIndex(pd.to_datetime(times, utc=True))
    bars = store.read_bars(symbol, timeframe, wanted[0].to_pydatetime(), wanted[-1].to_pydatetime())
    frame = pd.DataFrame(
        {"open": [b.open for b in bars], "close": [b.close for b in bars]},
        index=pd.DatetimeIndex([b.timestamp for b in bars]).tz_convert("UTC"),
    )
    frame = frame.reindex(wanted).ffill()
    config = BacktestConfig(initial_capital=capital, bars_per_year=per_year)
    result = buy_and_hold(wanted, frame["open"].to_numpy(), frame["close"].to_numpy(), config)
    return result.equity.tolist(), result.metrics


def _thin(times: list[str], equity: list[float], benchmark: list[float]) -> dict[str, Any]:
    step = max(1, math.ceil(len(times) / MAX_CURVE_POINTS))
    picked = list(range(0, len(times), step))
    if times and picked[-1] != len(times) - 1:
        picked.append(len(times) - 1)
    return {
        "step": step,
        "time": [times[i] for i in picked],
        "equity": [round(equity[i], 2) for i in picked],
        "benchmark_equity": [
            round(benchmark[i], 2) if i < len(benchmark) and math.isfinite(benchmark[i]) else None
            for i in picked
        ],
    }
