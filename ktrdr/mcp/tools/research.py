"""Trainings, backtests and the models they produce."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from ktrdr.core.api_models import ModelSummary, OperationStarted
from ktrdr.core.enums import OperationStatus
from ktrdr.core.protocol import (
    MAX_FOLDS,
    MAX_PARALLEL,
    MAX_SYMBOLS,
    MAX_TRIALS,
    MIN_WINDOW_BARS,
    MODEL_REF,
)
from ktrdr.mcp.backend import Backend
from ktrdr.mcp.errors import OperationFailedError, ToolArgumentError, reports_errors
from ktrdr.mcp.limits import PREDICTION_WAIT_S, bound_lists
from ktrdr.mcp.models import ModelPerformance, Prediction, Started
from ktrdr.mcp.tools.common import (
    DEFAULT_ITEMS,
    READ_ONLY,
    STARTS_WORK,
    IsoDate,
    MaxItems,
    StrategyName,
    Symbol,
    Timeframe,
)
from ktrdr.mcp.waiting import wait_for_operation

# The original server took a file path ("models/<strategy>/<tf>_v<N>/model.pt"); ktrdr
# names models "<strategy>/<tf>_v<N>" and never takes a path: the id is read out of one.
_MODEL_IN_PATH = re.compile(r"(?:^|/)([A-Za-z][A-Za-z0-9_]{0,63}/[0-9]+[mhdw]_(?:v[0-9]+|latest))")
Fraction = Annotated[float, Field(ge=0, lt=1)]
SIGNALS = {"buy": "BUY", "hold": "HOLD", "sell": "SELL"}
WAIT_HINT = "call get_operation_status(operation_id, wait_seconds=60) until terminal is true"


def model_reference(model_path: str) -> str:
    """A model id the backend accepts, from an id or from a path that holds one."""
    if MODEL_REF.fullmatch(model_path):
        return model_path
    found = _MODEL_IN_PATH.search(model_path)
    if found is None:
        raise ToolArgumentError(
            f"{model_path[:140]!r} names no model: use a model id such as "
            "'rsi_macd_trend/1d_v2', 'v2' or 'latest' (list_models lists them)",
            field="model_path",
        )
    return found.group(1)


def register(server: MCPServer, backend: Backend) -> None:
    guarded = reports_errors(backend.url)

    async def queue(
        start: Callable[..., OperationStarted], strategy_name: str, **params: Any
    ) -> Started:
        """Queue an operation through ``start`` (an ApiClient start_* method), and say how
        to wait for it."""
        started = await backend.call(start, strategy_name, **params)
        return Started(**started.model_dump(), strategy_name=strategy_name, hint=WAIT_HINT)

    @server.tool(annotations=STARTS_WORK)
    @guarded
    async def start_training(
        strategy_name: StrategyName,
        symbols: Annotated[list[Symbol], Field(min_length=1, max_length=MAX_SYMBOLS)] | None = None,
        timeframes: Annotated[list[Timeframe], Field(min_length=1, max_length=10)] | None = None,
        start_date: IsoDate | None = None,
        end_date: IsoDate | None = None,
    ) -> Started:
        """Queue a training of a stored strategy (upload_strategy first for a new one). It
        runs on a training worker (GPU first) and stores a new model version
        <strategy>/<timeframe>_v<N>. symbols and dates default to the strategy's
        training_data (other symbols with data may be given); timeframes, if given, must be
        the strategy's own (they shape the network). Returns at once:
        wait with get_operation_status(operation_id, wait_seconds=60); the completed
        result has model_id. Then start_backtest, get_operation_metrics."""
        return await queue(
            backend.client.start_training,
            strategy_name,
            symbols=symbols,
            timeframes=timeframes,
            start_date=start_date,
            end_date=end_date,
        )

    @server.tool(annotations=STARTS_WORK)
    @guarded
    async def start_backtest(
        strategy_name: StrategyName,
        symbol: Symbol | None = None,
        symbols: Annotated[list[Symbol], Field(min_length=1, max_length=MAX_SYMBOLS)] | None = None,
        timeframe: Timeframe | None = None,
        start_date: IsoDate | None = None,
        end_date: IsoDate | None = None,
        model_path: Annotated[str, Field(max_length=300)] | None = None,
        initial_capital: Annotated[float, Field(gt=0, le=1e15)] | None = None,
        commission: Fraction | None = None,
        slippage: Fraction | None = None,
        position_size: Annotated[float, Field(gt=0, le=1)] | None = None,
    ) -> Started:
        """Queue a backtest of a trained strategy on a backtest worker. Without dates it runs
        on the model's test split (bars the model never trained or early-stopped on): the
        honest out-of-sample figure. model_path: a model id ('canary_smoke/1d_v3', 'v3',
        'latest'; default the latest model). symbol: that one; symbols: each of those;
        neither: each symbol the model was trained on. Several give the first symbol's
        result at the top level plus per_symbol (each one's metrics and buy-and-hold
        benchmark) and combined (the equal-weight portfolio: metrics, benchmark). Costs
        default to commission 0.1 %, slippage 0.05 %. Wait with
        get_operation_status(operation_id, wait_seconds=60), then get_operation_results."""
        return await queue(
            backend.client.start_backtest,
            strategy_name,
            model=model_reference(model_path) if model_path else None,
            symbol=symbol,
            symbols=symbols,
            timeframe=timeframe,
            start_date=start_date,
            end_date=end_date,
            initial_capital=initial_capital,
            commission=commission,
            slippage=slippage,
            position_size=position_size,
        )

    @server.tool(annotations=STARTS_WORK)
    @guarded
    async def start_walkforward(
        strategy_name: StrategyName,
        folds: Annotated[int, Field(ge=1, le=MAX_FOLDS)] | None = None,
        train_bars: Annotated[int, Field(ge=MIN_WINDOW_BARS)] | None = None,
        test_bars: Annotated[int, Field(ge=MIN_WINDOW_BARS)] | None = None,
        mode: Literal["rolling", "anchored"] = "rolling",
        symbol: Symbol | None = None,
    ) -> Started:
        """Queue a walk-forward: per fold a training on its window, then a backtest of that
        model on the bars right after it; folds by count (folds) or by lengths (train_bars
        and test_bars). Runs on a research worker, its folds on every free worker. The
        result has a per-fold table and 'stitched': the out-of-sample equity chained over
        the folds, its metrics and buy and hold over the same bars. Wait with
        get_operation_status(operation_id, wait_seconds=60)."""
        return await queue(
            backend.client.start_walkforward,
            strategy_name,
            folds=folds,
            train_bars=train_bars,
            test_bars=test_bars,
            mode=mode,
            symbol=symbol,
        )

    @server.tool(annotations=STARTS_WORK)
    @guarded
    async def start_sweep(
        strategy_name: StrategyName,
        space: Annotated[dict[str, dict[str, Any]], Field(min_length=1, max_length=50)],
        trials: Annotated[int, Field(ge=1, le=MAX_TRIALS)] = 20,
        objective: str = "sharpe_ratio",
        parallel: Annotated[int, Field(ge=1, le=MAX_PARALLEL)] = 2,
    ) -> Started:
        """Queue an Optuna sweep of strategy fields. space maps YAML paths to ranges, e.g.
        {"indicators.rsi_14.params.period": {"low": 7, "high": 28},
        "model.hidden_layers": {"choices": [[16], [32, 16]]},
        "training.learning_rate": {"low": 0.0001, "high": 0.01, "log": true}}. Each trial
        trains and is scored by objective (a backtest metric) on its model's validation
        split; hopeless trials are pruned. The best strategy is saved as
        <strategy>_sweep_<id8> and backtested once on the test split. Wait with
        get_operation_status(operation_id, wait_seconds=60)."""
        return await queue(
            backend.client.start_sweep,
            strategy_name,
            space=space,
            trials=trials,
            objective=objective,
            parallel=parallel,
        )

    @server.tool(annotations=READ_ONLY)
    @guarded
    async def list_models(strategy: StrategyName | None = None) -> list[ModelSummary]:
        """Stored model versions (id <strategy>/<timeframe>_v<N>) with their metadata: symbols,
        data ranges and test split, seed, device, library versions. A backtest's model_path
        takes one of these ids."""
        return await backend.call(backend.client.models, strategy)

    @server.tool(annotations=READ_ONLY)
    @guarded
    async def get_model_performance(
        task_id: Annotated[str, Field(min_length=1, max_length=140)],
        max_items: MaxItems = DEFAULT_ITEMS,
    ) -> ModelPerformance:
        """How well a trained model learned: loss and accuracy on train, validation and test
        splits, and the per-epoch history. task_id: the training's operation_id, or a
        model id such as 'rsi_macd_trend/1d_v2'. Trading performance is a backtest's
        job (start_backtest)."""
        operation_id = None
        model_id = task_id
        if not MODEL_REF.fullmatch(task_id) or "/" not in task_id:
            operation_id = task_id
            state = await backend.call(backend.client.operation, task_id)
            model_id = (state.result or {}).get("model_id")
            if state.status != OperationStatus.COMPLETED or not model_id:
                raise ToolArgumentError(
                    f"operation {task_id} is a {state.type} that is {state.status}: no trained "
                    "model (wait for a training with get_operation_status)",
                    field="task_id",
                )
        detail = await backend.call(backend.client.model, model_id)
        metrics, cut = bound_lists(detail.metrics, max_items)
        return ModelPerformance(
            **detail.model_dump(exclude={"metrics"}),
            metrics=metrics,
            operation_id=operation_id,
            truncated={f"metrics.{path}": size for path, size in cut.items()},
        )

    @server.tool(annotations=STARTS_WORK)
    @guarded
    async def test_model_prediction(
        model_name: Annotated[str, Field(min_length=1, max_length=140)],
        ctx: Context,
        symbol: Symbol | None = None,
        timeframe: Timeframe | None = None,
        test_date: IsoDate | None = None,
    ) -> Prediction:
        """What a model decides (BUY, HOLD or SELL, after the strategy's confidence threshold)
        on one bar: test_date's bar (default: the latest bar of the series). model_name: a
        model id ('canary_smoke/1d_v2') or a strategy name (its latest model). Runs a
        one-bar backtest on a backtest worker and waits for it (up to a minute)."""
        strategy, _, version = model_name.partition("/")
        summary = next(
            (s for s in await backend.call(backend.client.strategies) if s.name == strategy),
            None,
        )
        if summary is None or not summary.timeframes or not summary.symbols:
            raise ToolArgumentError(
                f"no valid stored strategy {strategy[:64]!r} (get_available_strategies)",
                field="model_name",
            )
        symbol = symbol or summary.symbols[0]
        timeframe = timeframe or summary.timeframes[0]
        if test_date is None:
            date_range = await backend.call(backend.client.date_range, symbol, timeframe)
            test_date = date_range.end
        day = test_date[:10]
        started = await backend.call(
            backend.client.start_backtest,
            strategy,
            model=model_name if version else None,
            symbol=symbol,
            timeframe=timeframe,
            start_date=day,
            end_date=day,
        )
        state, _ = await wait_for_operation(backend, started.operation_id, PREDICTION_WAIT_S, ctx)
        if state.status in (OperationStatus.FAILED, OperationStatus.CANCELLED):
            raise OperationFailedError(
                f"the one-bar backtest {state.id} for {day} is {state.status}: {state.error}"
            )
        result = state.result or {}
        counts = result.get("signal_counts") or {}
        signal = next((SIGNALS[k] for k, n in counts.items() if n and k in SIGNALS), None)
        return Prediction(
            model_id=result.get("model_id"),
            symbol=result.get("symbol", symbol),
            timeframe=result.get("timeframe", timeframe),
            bar=(result.get("range") or {}).get("end"),
            signal=signal,
            operation_id=state.id,
            status=state.status,
        )
