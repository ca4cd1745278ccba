"""Small stored results, shaped as the workers write them, for report tests.

Hand-made so that the control plane's tests need no compute stack; the research loop
and the browser tests render real results end to end.
"""

from __future__ import annotations

import copy
from typing import Any

DAY = 86_400
T0 = 1_704_067_200  # 2024-01-01T00:00:00Z
METRICS = {
    "total_return": 0.05,
    "annualized_return": 0.5,
    "volatility": 0.2,
    "sharpe_ratio": 1.25,
    "sortino_ratio": 2.0,
    "calmar_ratio": 10.0,
    "max_drawdown": 0.02,
    "max_drawdown_duration_bars": 3,
    "win_rate": 0.5,
    "profit_factor": None,
    "num_trades": 2,
    "exposure": 0.4,
    "avg_holding_bars": 2.0,
}


def _iso(seconds: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).isoformat()


def backtest_result(bars: int = 10, strategy: str = "demo") -> dict[str, Any]:
    """Ten daily bars, a long trade (bars 1-3) and a short one (bars 5-7)."""
    times = [T0 + i * DAY for i in range(bars)]
    close = [100.0 + i for i in range(bars)]
    equity = [100_000.0, 101_000.0, 99_000.0, 102_000.0, 102_000.0] + [
        103_000.0 + i * 500 for i in range(bars - 5)
    ]
    trades = [
        {
            "side": "long",
            "entry_time": _iso(times[1]),
            "entry_price": 101.0,
            "exit_time": _iso(times[3]),
            "exit_price": 103.0,
            "units": 990.0,
            "pnl": 1_980.0,
            "return_pct": 0.0198,
            "holding_bars": 2,
            "exit_reason": "signal",
        },
        {
            "side": "short",
            "entry_time": _iso(times[5]),
            "entry_price": 105.0,
            "exit_time": _iso(times[7]),
            "exit_price": 107.0,
            "units": 970.0,
            "pnl": -1_940.0,
            "return_pct": -0.019,
            "holding_bars": 2,
            "exit_reason": "end_of_data",
        },
    ]
    return {
        "start": _iso(times[0]),
        "end": _iso(times[-1]),
        "bars": bars,
        "initial_capital": 100_000.0,
        "final_equity": equity[-1],
        "metrics": dict(METRICS),
        "benchmark": {**METRICS, "total_return": 0.09, "num_trades": 1, "win_rate": 1.0},
        "excess_return": -0.04,
        "trades": trades,
        "equity_curve": [[_iso(t), e] for t, e in zip(times, equity, strict=True)],
        "strategy": strategy,
        "model_id": f"{strategy}/1d_v3",
        "model_created_at": "2024-02-01T10:00:00+00:00",
        "symbol": "IBM",
        "timeframe": "1d",
        "range": {"start": _iso(times[0]), "end": _iso(times[-1]), "source": "test_split"},
        "splits": {
            "train": ["2020-01-01T00:00:00+00:00", "2022-12-30T00:00:00+00:00"],
            "validation": ["2023-01-03T00:00:00+00:00", "2023-12-29T00:00:00+00:00"],
            "test": [_iso(times[0]), _iso(times[-1])],
        },
        "costs": {
            "initial_capital": 100_000.0,
            "commission": 0.001,
            "slippage": 0.0005,
            "position_size": 1.0,
            "bars_per_year": 252,
            "risk_free_rate": 0.0,
        },
        "decisions": {
            "confidence_threshold": 0.5,
            "position_awareness": True,
            "allow_short_from_flat": True,
        },
        "signal_counts": {"buy": 3, "hold": bars - 5, "sell": 2},
        "chart": {
            "step": 1,
            "bars": bars,
            "time": times,
            "open": [c - 0.5 for c in close],
            "high": [c + 1 for c in close],
            "low": [c - 1 for c in close],
            "close": close,
            "equity": equity,
            "benchmark_equity": [100_000.0 + i * 900 for i in range(bars)],
        },
    }


def zero_trade_result() -> dict[str, Any]:
    result = backtest_result()
    result["trades"] = []
    result["metrics"] = {**METRICS, "num_trades": 0, "total_return": 0.0, "win_rate": 0.0}
    result["chart"]["equity"] = [100_000.0] * result["bars"]
    return result


def legacy_backtest_result() -> dict[str, Any]:
    """As results were stored before benchmarks and chart series existed."""
    result = backtest_result()
    for key in ("benchmark", "excess_return", "chart", "costs", "splits", "decisions"):
        del result[key]
    return result


def _evaluation(rows: int, confusion: list[list[int]]) -> dict[str, Any]:
    names = ("SELL", "HOLD", "BUY")
    return {
        "loss": 1.01,
        "accuracy": sum(confusion[i][i] for i in range(3)) / rows,
        "rows": rows,
        "per_class": {n: {"precision": 0.5, "recall": 0.25} for n in names},
        "confusion": confusion,
        "label_counts": {n: sum(confusion[i]) for i, n in enumerate(names)},
    }


def training_result(epochs: int = 6, strategy: str = "demo") -> dict[str, Any]:
    return {
        "model_id": f"{strategy}/1d_v2",
        "model_path": "/somewhere/on/the/worker",
        "strategy": strategy,
        "timeframe": "1d",
        "device": "cpu",
        "training_seconds": 1.5,
        "epochs_run": epochs,
        "epochs_configured": 50,
        "best_epoch": 3,
        "early_stopping": {"enabled": True, "patience": 3, "min_delta": 0.0001},
        "data_split": {"train": 0.7, "validation": 0.15, "test": 0.15},
        "rows": {"train": 70, "validation": 15, "test": 15},
        "ranges": {
            "IBM": {"train": ["2020-01-01", "2022-12-30"], "test": ["2023-01-03", "2023-12-29"]}
        },
        "metrics": {
            "train": _evaluation(70, [[10, 5, 5], [5, 20, 5], [5, 5, 10]]),
            "validation": _evaluation(15, [[2, 1, 1], [1, 5, 1], [1, 1, 2]]),
            "test": _evaluation(15, [[3, 1, 0], [2, 4, 1], [0, 1, 3]]),
        },
        "history": [
            {
                "epoch": e,
                "train_loss": 1.1 - 0.02 * e,
                "train_accuracy": 0.3 + 0.02 * e,
                "val_loss": 1.05 - 0.01 * min(e, 3) + 0.01 * max(e - 3, 0),
                "val_accuracy": 0.35 + 0.01 * e,
            }
            for e in range(1, epochs + 1)
        ],
    }


def with_changes(result: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(result)
    changed.update(changes)
    return changed
