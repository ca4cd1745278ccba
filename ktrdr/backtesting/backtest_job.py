"""The backtest worker's job: a dispatched backtest, run with the stored model."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ktrdr.backtesting.config import BacktestConfig
from ktrdr.backtesting.pipeline import backtest_model
from ktrdr.config import get_settings
from ktrdr.data.store import DataStore
from ktrdr.models.registry import ModelInfo, ModelNotFoundError, get_model
from ktrdr.progress import CancelToken, ProgressCallback
from ktrdr.protocol import OperationDispatch
from ktrdr.strategies import parse_strategy
from ktrdr.workers.job_params import check_param_names, text_param

_CONFIG_KEYS = ("initial_capital", "commission", "slippage", "position_size")
PARAMS = frozenset({"model", "symbol", "timeframe", "start_date", "end_date", *_CONFIG_KEYS})
_MODEL_ID = re.compile(r"^(?P<strategy>[^/]+)/(?P<timeframe>\d+[mhdw])_(?P<version>v\d+|latest)$")
_VERSION = re.compile(r"^v?(?P<number>\d+)$")


def resolve_model(
    models_dir: Path, strategy: str, timeframe: str, ref: str | int | None
) -> ModelInfo:
    """The model a backtest uses: an id, a version of this strategy, or the latest."""
    if ref is None or ref == "latest":
        model_id = f"{strategy}/{timeframe}_latest"
    elif isinstance(ref, int) and not isinstance(ref, bool):
        model_id = f"{strategy}/{timeframe}_v{ref}"
    elif isinstance(ref, str) and (version := _VERSION.match(ref)):
        model_id = f"{strategy}/{timeframe}_v{version['number']}"
    elif isinstance(ref, str) and (match := _MODEL_ID.match(ref)):
        if match["strategy"] != strategy:
            raise ValueError(
                f"model {ref!r} belongs to strategy {match['strategy']!r}, not {strategy!r}"
            )
        if match["timeframe"] != timeframe:
            raise ValueError(
                f"model {ref!r} trades {match['timeframe']}, but strategy {strategy!r} "
                f"trades {timeframe}"
            )
        model_id = ref
    else:
        raise ValueError(
            f"invalid model {ref!r}: expected <strategy>/<timeframe>_v<N>, "
            "<strategy>/<timeframe>_latest, or a version number"
        )
    try:
        return get_model(models_dir, model_id)
    except ModelNotFoundError as error:
        raise ValueError(f"{error}; train the strategy first") from error


def run_backtest_job(
    dispatch: OperationDispatch, progress: ProgressCallback, cancel: CancelToken
) -> dict[str, Any]:
    """Backtest the dispatched strategy's model; returns the backtest result JSON."""
    params = dispatch.params
    check_param_names(params, PARAMS, "backtest")
    strategy = parse_strategy(dispatch.strategy_yaml, source="dispatched strategy")
    timeframe = strategy.training_data.base_timeframe
    requested = text_param(params, "timeframe")
    if requested is not None and requested != timeframe:
        raise ValueError(
            f"timeframe {requested!r} does not match strategy {strategy.name!r}, which trades "
            f"{timeframe} (its first training timeframe)"
        )
    # Every parameter is checked before the (slower) model lookup and data loading.
    symbol = text_param(params, "symbol")
    start, end = text_param(params, "start_date"), text_param(params, "end_date")
    # Unset options keep BacktestConfig's defaults; it validates the values given.
    config = BacktestConfig(**{k: params[k] for k in _CONFIG_KEYS if params.get(k) is not None})
    settings = get_settings()
    model = resolve_model(settings.models_path, strategy.name, timeframe, params.get("model"))
    cancel.raise_if_cancelled()
    return backtest_model(
        model.path,
        DataStore(settings.data_path),
        symbol=symbol,
        start=start,
        end=end,
        config=config,
        decisions=strategy.decisions,
        progress=progress,
        cancel=cancel,
    )
