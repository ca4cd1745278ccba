"""The training worker's job: train a dispatched strategy and store the model."""

from __future__ import annotations

from typing import Any

from ktrdr.config import get_settings
from ktrdr.data.store import DataStore
from ktrdr.progress import CancelToken, ProgressCallback
from ktrdr.protocol import OperationDispatch
from ktrdr.strategies import parse_strategy
from ktrdr.training.pipeline import train_strategy
from ktrdr.workers.job_params import check_param_names, text_param

PARAMS = frozenset({"symbols", "timeframes", "start_date", "end_date"})


def _text_list(params: dict[str, Any], key: str) -> list[str] | None:
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a non-empty list of strings, got {value!r}")
    return value


def run_training_job(
    dispatch: OperationDispatch, progress: ProgressCallback, cancel: CancelToken
) -> dict[str, Any]:
    """Train the dispatched strategy; returns the training summary (with the model id)."""
    params = dispatch.params
    check_param_names(params, PARAMS, "training")
    strategy = parse_strategy(dispatch.strategy_yaml, source="dispatched strategy")
    timeframes = _text_list(params, "timeframes")
    if timeframes is not None and timeframes != strategy.training_data.timeframes:
        raise ValueError(
            f"timeframes {timeframes} do not match strategy {strategy.name!r}, which is built "
            f"on {strategy.training_data.timeframes}; change the strategy to change them"
        )
    symbols = _text_list(params, "symbols")
    start, end = text_param(params, "start_date"), text_param(params, "end_date")
    settings = get_settings()
    return train_strategy(
        strategy,
        DataStore(settings.data_path),
        settings.models_path,
        symbols=symbols,
        start=start,
        end=end,
        progress=progress,
        cancel=cancel,
    )
