"""The backtest and training job functions, with the real compute on bundled data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ktrdr.core.progress import CancelToken, OperationCancelledError, Progress, ProgressCallback
from ktrdr.core.protocol import OperationDispatch
from ktrdr.core.settings import get_settings
from ktrdr.research.data.store import DataStore
from ktrdr.research.model_registry import latest_model, list_models, publish_model
from ktrdr.workers.context import JobContext
from ktrdr.workers.executor import STALE_REASON
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


class WorkerLost(BaseException):
    """The worker's process going away mid-training: nothing after it runs."""


def lose_worker_at_epoch(epoch: int) -> ProgressCallback:
    def progress(report: Progress) -> None:
        if report.details.get("epoch") == epoch and report.details.get("batch") == 1:
            raise WorkerLost

    return progress


def checkpoint_file(home: Path, operation_id: str) -> Path:
    return home / "models" / ".checkpoints" / f"{operation_id}.pt"


@pytest.mark.slow
def test_a_redispatched_training_resumes_and_stores_the_same_model(
    ktrdr_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KTRDR_CHECKPOINT_EVERY_EPOCHS", "2")
    get_settings.cache_clear()
    yaml = STRATEGY_YAML.replace("epochs: 2", "epochs: 5")
    params = {"timeframes": ["1d"], "symbols": ["IBM"]}

    def training(operation_id: str, attempt: str) -> OperationDispatch:
        return OperationDispatch(
            operation_id=operation_id,
            operation_type="training",
            attempt=attempt * 32,
            strategy_yaml=yaml,
            params=params,
        )

    whole = run(run_training_job, training("whole", "a"))
    assert whole["resumed_from_epoch"] is None
    assert not checkpoint_file(ktrdr_home, "whole").exists()  # removed once stored

    # The first attempt's worker is lost during epoch 4: the checkpoint of epoch 2 stays.
    with pytest.raises(WorkerLost):
        run_training_job(context(lose_worker_at_epoch(4)), training("lost", "b"))
    assert checkpoint_file(ktrdr_home, "lost").is_file()
    # A checkpoint is no model: listings skip it.
    assert [m.model_id for m in list_models(ktrdr_home / "models")] == [whole["model_id"]]
    # The backend re-dispatches the operation (a new attempt) to another worker.
    reports: list[Progress] = []
    resumed = run_training_job(context(reports.append), training("lost", "c"))
    assert resumed["resumed_from_epoch"] == 2
    assert any(r.message == "resumed from epoch 2/5" for r in reports)
    assert not checkpoint_file(ktrdr_home, "lost").exists()
    assert resumed["history"] == whole["history"]
    assert resumed["metrics"] == whole["metrics"]
    # Byte for byte: the stored weights file of the resumed run is the uninterrupted one's.
    assert (Path(resumed["model_path"]) / "model.pt").read_bytes() == (
        Path(whole["model_path"]) / "model.pt"
    ).read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize(("reason", "kept"), [(STALE_REASON, True), ("by user", False)])
def test_a_superseded_attempt_keeps_the_checkpoint_a_cancelled_one_drops_it(
    ktrdr_home: Path, monkeypatch: pytest.MonkeyPatch, reason: str, kept: bool
) -> None:
    monkeypatch.setenv("KTRDR_CHECKPOINT_EVERY_EPOCHS", "1")
    get_settings.cache_clear()
    token = CancelToken()

    def cancel_in_epoch_two(report: Progress) -> None:
        if report.details.get("epoch") == 2:
            token.cancel(reason)

    with pytest.raises(OperationCancelledError):
        run_training_job(
            context(cancel_in_epoch_two, token),
            dispatch("training", timeframes=["1d"], symbols=["IBM"]),
        )
    # The attempt in force (another worker) resumes from it; nobody resumes a cancelled one.
    assert checkpoint_file(ktrdr_home, "op").is_file() is kept
