"""Reports of parent operations: a walk-forward's folds and stitched equity, a sweep's
trials and objective history. Drawn from the stored result like every report."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ktrdr.reports import formatting as fmt
from ktrdr.reports.results import Number, ResultModel

FOLD_METRICS = ("total_return", "sharpe_ratio", "max_drawdown", "win_rate", "num_trades")


class Window(ResultModel):
    start: str
    end: str
    bars: int


class FoldRow(ResultModel):
    fold: int
    train: Window
    test: Window
    model_id: str | None = None
    training_id: str | None = None
    backtest_id: str | None = None
    metrics: dict[str, Number] = Field(default_factory=dict)
    benchmark_return: Number = None
    excess_return: Number = None


class StitchedCurve(ResultModel):
    time: list[str]
    equity: list[float | None]
    benchmark_equity: list[float | None]


class Stitched(ResultModel):
    bars: int
    start: str | None = None
    end: str | None = None
    initial_capital: Number = None
    final_equity: Number = None
    metrics: dict[str, Number]
    benchmark: dict[str, Number] = Field(default_factory=dict)
    excess_return: Number = None
    fold_starts: list[str] = Field(default_factory=list)
    curve: StitchedCurve


class WalkForwardView(ResultModel):
    strategy: str
    symbol: str | None = None
    timeframe: str | None = None
    mode: str | None = None
    folds: list[FoldRow]
    stitched: Stitched


class TrialRow(ResultModel):
    number: int
    state: str
    value: Number = None
    values: dict[str, Any] = Field(default_factory=dict)
    model_id: str | None = None
    epochs_run: int | None = None
    last_epoch_reported: int | None = None
    error: str | None = None


class HistoryPoint(ResultModel):
    number: int
    value: Number = None
    best: Number = None


class SweepView(ResultModel):
    strategy: str
    study_name: str
    objective: str
    direction: str
    sampler: str | None = None
    trials_requested: int | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    trials: list[TrialRow]
    history: list[HistoryPoint] = Field(default_factory=list)
    space: dict[str, Any] = Field(default_factory=dict)
    best: dict[str, Any] | None = None


def walkforward_context(view: WalkForwardView, operation_id: str | None) -> dict[str, Any]:
    """What the walk-forward template and script draw."""
    stitched = view.stitched
    metric_rows = [
        {
            "key": key,
            "label": fmt.metric_label(key),
            "strategy": value,
            "benchmark": stitched.benchmark.get(key),
        }
        for key, value in stitched.metrics.items()
    ]
    provenance = [
        ("Strategy", view.strategy),
        ("Symbol", f"{view.symbol or fmt.MISSING} {view.timeframe or ''}".strip()),
        ("Folds", f"{len(view.folds)} ({view.mode or 'rolling'})"),
        (
            "Out of sample",
            f"{fmt.format_time(stitched.start)} .. {fmt.format_time(stitched.end)}, "
            f"{stitched.bars:,} bars",
        ),
    ]
    if operation_id:
        provenance.append(("Operation", operation_id))
    curve = stitched.curve
    return {
        "title": f"Walk-forward {view.strategy} · {view.symbol or ''}".strip(" ·"),
        "subtitle": (
            f"{len(view.folds)} folds; stitched out-of-sample return "
            f"{fmt.format_percent(stitched.metrics.get('total_return'))} against buy and hold "
            f"{fmt.format_percent(stitched.benchmark.get('total_return'))}"
        ),
        "view": view,
        "fold_metrics": FOLD_METRICS,
        "metric_labels": {k: fmt.metric_label(k) for k in FOLD_METRICS},
        "metrics": metric_rows,
        "provenance": provenance,
        "payload": {
            "time": [fmt.unix_seconds(t) for t in curve.time],
            "equity": curve.equity,
            "benchmark_equity": curve.benchmark_equity,
            "fold_starts": [fmt.unix_seconds(t) for t in stitched.fold_starts],
        },
    }


def sweep_context(view: SweepView, operation_id: str | None) -> dict[str, Any]:
    """What the sweep template and script draw."""
    best = view.best or {}
    test = best.get("test_backtest") or {}
    provenance = [
        ("Strategy", view.strategy),
        ("Study", view.study_name),
        ("Objective", f"{view.objective} ({view.direction}), on each model's validation split"),
        ("Sampler", view.sampler or fmt.MISSING),
        ("Searched", ", ".join(view.space) or fmt.MISSING),
    ]
    if best:
        provenance.append(("Best strategy saved as", str(best.get("strategy_name"))))
    if operation_id:
        provenance.append(("Operation", operation_id))
    counts = view.counts
    return {
        "title": f"Sweep {view.strategy}",
        "subtitle": (
            f"{len(view.trials)} trials: {counts.get('complete', 0)} complete, "
            f"{counts.get('pruned', 0)} pruned, {counts.get('fail', 0)} failed"
        ),
        "view": view,
        "best": best,
        "test": test,
        "paths": list(view.space),
        "provenance": provenance,
        "payload": {
            "history": [p.model_dump() for p in view.history],
            "objective": view.objective,
        },
    }
