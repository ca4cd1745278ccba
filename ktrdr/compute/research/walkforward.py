"""The walk-forward driver: per fold a training on its window, then a backtest on the
bars after it; the result chains the folds' out-of-sample equity into one curve.

Children are keyed ``fold-<n>-train`` / ``fold-<n>-backtest``: a driver re-queued after
its worker was lost asks for them again and gets the ones already there.
"""

from __future__ import annotations

from typing import Any

from ktrdr.compute.research.children import ChildSpec
from ktrdr.compute.research.stitch import stitch_folds
from ktrdr.compute.research.waiting import DriverContext
from ktrdr.core.enums import OperationStatus, OperationType
from ktrdr.core.errors import ConflictError
from ktrdr.core.protocol import WalkForwardParams
from ktrdr.research.data.store import DataStore
from ktrdr.research.scale.folds import DatedFold, walkforward_plan
from ktrdr.research.strategies.schema import StrategyConfig

FOLD_METRICS = ("total_return", "sharpe_ratio", "max_drawdown", "win_rate", "num_trades")


class ChildFailedError(ConflictError):
    """A fold's child ended without a result: the walk-forward cannot be stitched."""


def run_walkforward(
    config: StrategyConfig,
    params: WalkForwardParams,
    store: DataStore,
    ctx: DriverContext,
) -> dict[str, Any]:
    """Run (or re-attach to) every fold's children and return the stitched result."""
    symbol, folds = walkforward_plan(config, params, store)
    total = 2 * len(folds)
    trained: dict[int, dict[str, Any]] = {}
    tested: dict[int, dict[str, Any]] = {}
    running: dict[int, tuple[str, str]] = {}  # fold -> (stage, child id)
    ids: dict[str, str] = {}
    waiting = list(folds)
    children = ctx.children
    while len(tested) < len(folds):
        ctx.cancel.raise_if_cancelled()
        while waiting and len(running) < params.max_parallel:
            fold = waiting.pop(0)
            key = f"fold-{fold.index}-train"
            ids[key] = children.start(
                ChildSpec(key, OperationType.TRAINING, _train_params(symbol, fold))
            )
            running[fold.index] = ("train", ids[key])
        for index, (stage, child_id) in list(running.items()):
            state = children.state(child_id)
            if not state.status.is_terminal:
                continue
            if state.status != OperationStatus.COMPLETED or state.result is None:
                raise ChildFailedError(
                    f"fold {index} {stage} {state.status}: {state.error or 'no result'}"
                )
            fold = folds[index - 1]
            if stage == "train":
                trained[index] = state.result
                key = f"fold-{index}-backtest"
                model_id = str(state.result["model_id"])
                ids[key] = children.start(
                    ChildSpec(key, OperationType.BACKTESTING, _test_params(symbol, fold, model_id))
                )
                running[index] = ("backtest", ids[key])
            else:
                tested[index] = state.result
                del running[index]
        done = len(trained) + len(tested)
        ctx.report(done, total, f"{len(tested)}/{len(folds)} folds tested")
        if len(tested) < len(folds):
            ctx.pause()
    return _result(config, params, symbol, folds, trained, tested, ids, store)


def _train_params(symbol: str, fold: DatedFold) -> dict[str, Any]:
    return {
        "symbols": [symbol],
        "start_date": fold.train_start.date().isoformat(),
        "end_date": fold.train_end.date().isoformat(),
    }


def _test_params(symbol: str, fold: DatedFold, model_id: str) -> dict[str, Any]:
    return {
        "model": model_id,
        "symbol": symbol,
        "start_date": fold.test_start.date().isoformat(),
        "end_date": fold.test_end.date().isoformat(),
    }


def _result(
    config: StrategyConfig,
    params: WalkForwardParams,
    symbol: str,
    folds: list[DatedFold],
    trained: dict[int, dict[str, Any]],
    tested: dict[int, dict[str, Any]],
    ids: dict[str, str],
    store: DataStore,
) -> dict[str, Any]:
    rows = []
    for fold in folds:
        backtest = tested[fold.index]
        metrics = backtest.get("metrics", {})
        rows.append(
            {
                **fold.to_dict(),
                "training_id": ids.get(f"fold-{fold.index}-train"),
                "backtest_id": ids.get(f"fold-{fold.index}-backtest"),
                "model_id": trained[fold.index].get("model_id"),
                "epochs_run": trained[fold.index].get("epochs_run"),
                "metrics": {k: metrics.get(k) for k in FOLD_METRICS},
                "benchmark_return": (backtest.get("benchmark") or {}).get("total_return"),
                "excess_return": backtest.get("excess_return"),
            }
        )
    stitched = stitch_folds(
        [tested[fold.index] for fold in folds],
        store,
        symbol,
        config.training_data.base_timeframe,
    )
    return {
        "strategy": config.name,
        "symbol": symbol,
        "timeframe": config.training_data.base_timeframe,
        "mode": params.mode,
        "folds": rows,
        **stitched,
    }
