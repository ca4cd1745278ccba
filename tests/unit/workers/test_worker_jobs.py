"""The backtest and training job functions, with the real compute on bundled data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ktrdr.backtesting.backtest_job import run_backtest_job
from ktrdr.progress import CancelToken, OperationCancelledError, Progress
from ktrdr.protocol import OperationDispatch
from ktrdr.training.training_job import run_training_job

STRATEGIES_DIR = Path(__file__).resolve().parents[3] / "strategies"
# Two epochs keep training to seconds; the pipeline is the same.
STRATEGY_YAML = (
    (STRATEGIES_DIR / "stoch_adx_breakout.yaml").read_text().replace("epochs: 50", "epochs: 2")
)
assert "epochs: 2" in STRATEGY_YAML


def dispatch(kind: str, yaml: str = STRATEGY_YAML, **params: Any) -> OperationDispatch:
    return OperationDispatch(
        operation_id="op", operation_type=kind, strategy_yaml=yaml, params=params
    )


def run(job: Any, request: OperationDispatch, cancel: CancelToken | None = None) -> Any:
    reports: list[Progress] = []
    result = job(request, reports.append, cancel or CancelToken())
    assert reports, "the job reported no progress"
    assert reports[-1].percent == 100.0
    return result


@pytest.mark.slow
def test_train_then_backtest_through_the_jobs(ktrdr_home: Path) -> None:
    summary = run(run_training_job, dispatch("training", timeframes=["1d"], symbols=["IBM"]))
    assert summary["model_id"] == "stoch_adx_breakout/1d_v1"
    assert summary["epochs_run"] == 2
    assert set(summary["metrics"]) == {"train", "validation", "test"}
    assert Path(summary["model_path"]).is_relative_to(ktrdr_home / "models")

    result = run(run_backtest_job, dispatch("backtesting"))
    assert result["model_id"] == "stoch_adx_breakout/1d_v1"
    assert result["range"]["source"] == "test_split"
    assert {"total_return", "sharpe_ratio", "num_trades"} <= set(result["metrics"])

    # Every way of naming the same model gives the same backtest.
    for ref in (1, "v1", "1", "stoch_adx_breakout/1d_v1", "stoch_adx_breakout/1d_latest"):
        again = run(run_backtest_job, dispatch("backtesting", model=ref, timeframe="1d"))
        assert again["metrics"] == result["metrics"], ref

    explicit = run(
        run_backtest_job,
        dispatch(
            "backtesting",
            symbol="IBM",
            start_date="2008-01-01",
            end_date="2009-12-31",
            initial_capital=50_000,
            commission=0.0,
            slippage=0.0,
            position_size=0.5,
        ),
    )
    assert explicit["range"]["source"] == "explicit"
    assert explicit["range"]["start"][:4] == "2008"
    assert explicit["initial_capital"] == 50_000

    cancelled = CancelToken()
    cancelled.cancel("stop")
    with pytest.raises(OperationCancelledError, match="stop"):
        run_backtest_job(dispatch("backtesting"), lambda _: None, cancelled)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "no trained model for strategy 'stoch_adx_breakout'.*train the strategy first"),
        ({"model": "stoch_adx_breakout/1d_v7"}, "not found.*train the strategy first"),
        ({"model": "other/1d_v1"}, "belongs to strategy 'other'"),
        ({"model": "stoch_adx_breakout/1h_v1"}, "trades 1h"),
        ({"model": "/etc/passwd"}, "invalid model"),
        ({"timeframe": "1h"}, "timeframe '1h' does not match .* trades 1d"),
        ({"capital": 5}, "unknown backtest parameter.*capital"),
        ({"commission": "free"}, "commission must be a number"),
        ({"symbol": 5}, "symbol must be a string"),
    ],
)
def test_bad_backtest_params_are_explained(
    ktrdr_home: Path, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        run_backtest_job(dispatch("backtesting", **params), lambda _: None, CancelToken())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"timeframes": ["1h"]}, r"timeframes \['1h'\] do not match .* \['1d'\]"),
        ({"symbols": []}, "symbols must be a non-empty list"),
        ({"epochs": 3}, "unknown training parameter.*epochs"),
    ],
)
def test_bad_training_params_are_explained(
    ktrdr_home: Path, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        run_training_job(dispatch("training", **params), lambda _: None, CancelToken())


def test_an_invalid_strategy_is_a_value_error(ktrdr_home: Path) -> None:
    with pytest.raises(ValueError, match="dispatched strategy is invalid"):
        run_training_job(dispatch("training", yaml="name: x\n"), lambda _: None, CancelToken())
