"""The backtest worker's job: a dispatched backtest, run with the stored model."""

from __future__ import annotations

from typing import Any

from ktrdr.compute.backtesting.config import BacktestConfig
from ktrdr.compute.backtesting.pipeline import backtest_model
from ktrdr.core.protocol import BacktestParams, OperationDispatch
from ktrdr.research.model_registry import resolve_model
from ktrdr.research.strategies import parse_strategy
from ktrdr.workers.context import JobContext

CONFIG_FIELDS = ("initial_capital", "commission", "slippage", "position_size")


def run_backtest_job(ctx: JobContext, dispatch: OperationDispatch) -> dict[str, Any]:
    """Backtest the dispatched strategy's model; returns the backtest result JSON."""
    params = dispatch.params
    assert isinstance(params, BacktestParams)
    strategy = parse_strategy(dispatch.strategy_yaml, source="dispatched strategy")
    timeframe = strategy.training_data.base_timeframe
    # Unset options keep BacktestConfig's defaults.
    given = {name: getattr(params, name) for name in CONFIG_FIELDS}
    config = BacktestConfig(**{name: value for name, value in given.items() if value is not None})
    model = resolve_model(ctx.settings.models_path, strategy.name, timeframe, params.model)
    ctx.cancel.raise_if_cancelled()
    return backtest_model(
        model.path,
        ctx.data,
        symbol=params.symbol,
        symbols=params.symbols,
        start=params.start_date,
        end=params.end_date,
        config=config,
        decisions=strategy.decisions,
        progress=ctx.progress,
        cancel=ctx.cancel,
    )
