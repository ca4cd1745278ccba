"""The backtest and training job functions, with the real compute on bundled data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ktrdr.core.progress import CancelToken, OperationCancelledError, Progress, ProgressCallback
from ktrdr.core.protocol import OperationDispatch
from ktrdr.core.settings import get_settings
from ktrdr.research.data.store import DataStore
from ktrdr.research.model_registry import latest_model, publish_model
from ktrdr.workers.context import JobContext
from ktrdr.workers.jobs.backtesting import run_backtest_job
from ktrdr.workers.jobs.training import run_training_job
from tests.support.paths import STRATEGIES_DIR

# Two epochs keep training to seconds; the pipeline is the same.
STRATEGY_YAML = (
    (STRATEGIES_DIR / "stoch_adx_breakout.yaml").read_text().replace("epochs: 50", "epochs: 2")
)
assert "epochs: 2" in STRATEGY_YAML


def dispatch(kind: str, yaml: str = STRATEGY_YAML, **params: Any) -> OperationDispatch:
    return OperationDispatch(
        operation_id="op", operation_type=kind, attempt="e" * 32, strategy_yaml=yaml, params=params
    )


def context(progress: ProgressCallback, cancel: CancelToken | None = None) -> JobContext:
    settings = get_settings()  # the ktrdr_home fixture's environment
    return JobContext(
        settings, DataStore.from_settings(settings), progress, cancel or CancelToken()
    )


def run(job: Any, request: OperationDispatch, cancel: CancelToken | None = None) -> Any:
    reports: list[Progress] = []
    result = job(context(reports.append, cancel), request)
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
    # A worker never moves `latest`: the backend does once it accepts the finish.
    models = ktrdr_home / "models"
    with pytest.raises(LookupError, match="no trained model"):
        latest_model(models, "stoch_adx_breakout", "1d")
    publish_model(models, summary["model_id"])

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
        run_backtest_job(context(lambda _: None, cancelled), dispatch("backtesting"))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "no trained model for strategy 'stoch_adx_breakout'.*train it first"),
        ({"model": "stoch_adx_breakout/1d_v7"}, "model 'stoch_adx_breakout/1d_v7' not found"),
        ({"model": "v7"}, "model 'stoch_adx_breakout/1d_v7' not found"),
        ({"model": "other/1d_v1"}, "belongs to strategy 'other'"),
        ({"model": "stoch_adx_breakout/1h_v1"}, "trades 1h"),
    ],
)
def test_a_model_that_cannot_be_used_is_explained(
    ktrdr_home: Path, params: dict[str, Any], message: str
) -> None:
    # Parameters are typed and checked at the API; which model exists is known only here.
    with pytest.raises(
        LookupError if "found" in message or "no trained" in message else ValueError, match=message
    ):
        run_backtest_job(context(lambda _: None), dispatch("backtesting", **params))


def test_an_invalid_strategy_is_a_value_error(ktrdr_home: Path) -> None:
    with pytest.raises(ValueError, match="dispatched strategy is invalid"):
        run_training_job(context(lambda _: None), dispatch("training", yaml="name: x\n"))
