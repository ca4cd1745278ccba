"""Backtest a strategy's stored model, out of sample by default.

Used by ``ktrdr backtest --local`` and by the backtest worker alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ktrdr.compute.backtesting.benchmark import buy_and_hold, excess_return
from ktrdr.compute.backtesting.chart import chart_series
from ktrdr.compute.backtesting.combine import combine_equal_weight
from ktrdr.compute.backtesting.config import BacktestConfig
from ktrdr.compute.backtesting.engine import BacktestResult, json_number, run_backtest
from ktrdr.compute.backtesting.model_loader import LoadedModel, load_model
from ktrdr.compute.features.dataset import inference_features
from ktrdr.core.errors import InvalidInputError
from ktrdr.core.progress import CancelToken, Progress, ProgressCallback
from ktrdr.core.timeframes import bars_per_year
from ktrdr.research.data.store import DataStore
from ktrdr.research.strategies.schema import DecisionsConfig, StrategyConfig


def backtest_model(
    model_dir: Path,
    store: DataStore,
    *,
    symbol: str | None = None,
    symbols: list[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    config: BacktestConfig | None = None,
    decisions: DecisionsConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, Any]:
    """Run the model over [start, end] of each symbol and return the result JSON.

    ``symbol`` backtests that one; ``symbols`` those; neither: every symbol the model was
    trained on. One symbol gives a single-symbol result. Several give the first symbol's
    result at the top level (the same keys, so every reader of one still reads it), with
    ``symbols``, ``per_symbol`` (each symbol's metrics, benchmark, trades, range) and
    ``combined`` (the equal-weight portfolio: see :mod:`.combine`).

    Without dates the window is the model's test split for each symbol (data it never
    trained or early-stopped on); the result's ``range`` says which window was used.
    ``decisions`` (threshold, position rules) default to those stored with the model;
    they act after the network, so a strategy may change them without retraining.
    """
    model = load_model(model_dir)
    strategy = StrategyConfig.model_validate(model.strategy)
    decisions = decisions or strategy.decisions
    config = replace(
        config or BacktestConfig(),
        bars_per_year=bars_per_year(strategy.training_data.base_timeframe),
    )
    if symbol is not None:
        wanted = [symbol]
    else:
        trained = model.metadata.get("symbols") or strategy.training_data.symbols
        wanted = list(dict.fromkeys(symbols or trained))  # in order, once each
    runs = []
    for number, name in enumerate(wanted):
        # Each symbol's share of the progress bar.
        share = _scaled(progress, number / len(wanted), 1 / len(wanted), name, len(wanted))
        runs.append(
            _backtest_symbol(
                model, strategy, store, name, start, end, config, decisions, share, cancel
            )
        )
    first = runs[0].body
    if len(runs) == 1:
        return first
    combined = combine_equal_weight(
        [r.result for r in runs], config.bars_per_year, config.risk_free_rate
    )
    benchmark = combine_equal_weight(
        [r.benchmark for r in runs], config.bars_per_year, config.risk_free_rate
    )
    combined_body = combined.to_dict()
    del combined_body["trades"]  # each symbol's trades are in per_symbol
    return {
        **first,
        "symbols": wanted,
        # Each symbol's own backtest, with all of the capital (what --symbol gives alone).
        "per_symbol": {r.symbol: {k: v for k, v in r.body.items() if k not in _ONCE} for r in runs},
        "combined": {
            **combined_body,
            "symbols": wanted,
            "weighting": "equal",
            "benchmark": {k: json_number(v) for k, v in benchmark.metrics.items()},
            "excess_return": json_number(
                excess_return(combined.metrics["total_return"], benchmark.metrics["total_return"])
            ),
        },
    }


# What per_symbol leaves out: drawn for the first symbol only (the top level), or the
# same for every symbol.
_ONCE = (
    "chart",
    "equity_curve",
    "strategy",
    "model_id",
    "model_created_at",
    "timeframe",
    "costs",
    "decisions",
)


@dataclass
class _SymbolRun:
    symbol: str
    body: dict[str, Any]  # the single-symbol result JSON
    result: BacktestResult
    benchmark: BacktestResult


def _scaled(
    progress: ProgressCallback | None, offset: float, share: float, symbol: str, count: int
) -> ProgressCallback | None:
    if progress is None or count == 1:
        return progress

    def report(p: Progress) -> None:
        progress(
            p.model_copy(
                update={
                    "percent": 100.0 * offset + p.percent * share,
                    "details": {**p.details, "symbol": symbol},
                }
            )
        )

    return report


def _backtest_symbol(
    model: LoadedModel,
    strategy: StrategyConfig,
    store: DataStore,
    symbol: str,
    start: str | None,
    end: str | None,
    config: BacktestConfig,
    decisions: DecisionsConfig,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> _SymbolRun:
    timeframe = strategy.training_data.base_timeframe
    test_range = model.metadata.get("ranges", {}).get(symbol, {}).get("test")
    if start is None and end is None and test_range:
        start, end, source = test_range[0], test_range[1], "test_split"
    else:
        source = "explicit" if (start or end) else "all_data"
    if progress is not None:
        progress(Progress(percent=5.0, message=f"computing features for {symbol} {timeframe}"))
    features, bars = inference_features(
        strategy, store, symbol, model.normalisation, model.feature_names, start, end
    )
    if features.empty:
        raise InvalidInputError(f"no bars of {symbol} {timeframe} in the window {start} .. {end}")
    if cancel is not None:
        cancel.raise_if_cancelled()
    if progress is not None:
        progress(Progress(percent=40.0, message=f"predicting {len(features)} bars of {symbol}"))
    signals, confidences = model.predict(features.to_numpy())
    confident = confidences >= decisions.confidence_threshold
    timestamps = bars.index.to_numpy()
    opens, closes = bars["open"].to_numpy(), bars["close"].to_numpy()
    result = run_backtest(timestamps, opens, closes, signals, confidences, decisions, config)
    benchmark = buy_and_hold(timestamps, opens, closes, config)
    if progress is not None:
        progress(
            Progress(percent=100.0, message=f"{symbol}: {result.metrics['num_trades']} trades")
        )
    body = {
        **result.to_dict(),
        # Buy-and-hold over the same bars, same costs, same metric keys.
        "benchmark": {k: json_number(v) for k, v in benchmark.metrics.items()},
        "excess_return": json_number(
            excess_return(result.metrics["total_return"], benchmark.metrics["total_return"])
        ),
        "strategy": strategy.name,
        "model_id": model.model_id,
        "model_created_at": model.metadata.get("created_at"),
        "symbol": symbol,
        "timeframe": timeframe,
        "range": {
            "start": bars.index[0].isoformat(),
            "end": bars.index[-1].isoformat(),
            "source": source,
        },
        # The model's chronological split of this symbol: what it trained and stopped on.
        "splits": model.metadata.get("ranges", {}).get(symbol),
        "costs": asdict(config),
        "decisions": decisions.model_dump(mode="json"),
        # What the engine acted on: below the confidence threshold a signal is a HOLD.
        "signal_counts": {
            "buy": int(((signals == 1) & confident).sum()),
            "hold": int(len(signals) - ((signals != 0) & confident).sum()),
            "sell": int(((signals == -1) & confident).sum()),
        },
        # What a report draws (bounded: see MAX_CHART_BARS).
        "chart": chart_series(bars, result.equity, benchmark.equity),
    }
    return _SymbolRun(symbol, body, result, benchmark)
