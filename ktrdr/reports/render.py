"""Render reports: the stored result in, one self-contained HTML document out."""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any, TypeVar

from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import BaseModel, ValidationError

from ktrdr import __version__
from ktrdr.core.errors import InvalidDocumentError, Issue
from ktrdr.reports import formatting as fmt
from ktrdr.reports.research import (
    SweepView,
    WalkForwardView,
    sweep_context,
    walkforward_context,
)
from ktrdr.reports.results import (
    BacktestResultView,
    ChartSeries,
    TradeRow,
    TrainingResultView,
)

LIBRARY_NAME = "TradingView Lightweight Charts"
LIBRARY_VERSION = "5.2.1"
LIBRARY_FILE = "vendor/lightweight-charts/lightweight-charts.standalone.production.js"
LIBRARY_SHA256 = "e21cc5caa0226ef30bd8549c50b9ef926615f2a4ee6b4e486353477a55f598cf"
# A report lists this many trades at most (all of them stay in the result JSON).
MAX_TRADE_ROWS = 5_000
# An older result's equity curve is thinned to this many points (new ones are bounded).
MAX_CHART_POINTS = 10_000
# Above this many trades the markers carry no text: the shapes alone stay readable.
MAX_LABELLED_TRADES = 40
CLASS_NAMES = ("SELL", "HOLD", "BUY")  # the network's class order (signal + 1)
SPLIT_NAMES = ("train", "validation", "test")
LONG_COLOUR, SHORT_COLOUR = "#0b8a5f", "#c62828"
ModelT = TypeVar("ModelT", bound=BaseModel)


class ReportDataError(InvalidDocumentError):
    """A stored result that a report cannot be drawn from; ``issues`` say which fields."""

    def __init__(self, what: str, issues: list[Issue]) -> None:
        self._issues = issues
        super().__init__(
            f"the {what} cannot be drawn: " + "; ".join(str(i) for i in issues[:5]),
            field=issues[0].path if issues else None,
        )

    @property
    def issues(self) -> list[Issue]:
        return self._issues


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("ktrdr.reports", "templates"),
        autoescape=True,  # every value is text from a result or a user: always escaped
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["json.dumps_kwargs"] = {"allow_nan": False, "separators": (",", ":")}
    env.filters.update(
        metric=fmt.format_metric,
        percent=fmt.format_percent,
        money=fmt.format_money,
        price=fmt.format_price,
        number=fmt.format_number,
        when=fmt.format_time,
        metric_label=fmt.metric_label,
        raw_json=lambda value: json.dumps(value, allow_nan=False),
    )
    return env


@cache
def _asset(name: str) -> str:
    return files("ktrdr.reports").joinpath(name).read_text(encoding="utf-8")


def _script_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(scripts: list[str]) -> str:
    """Only the report's own inline scripts run, and nothing is fetched from anywhere."""
    script_src = " ".join(_script_hash(s) for s in scripts) or "'none'"
    return (
        f"default-src 'none'; script-src {script_src}; style-src 'unsafe-inline'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def _parse(model: type[ModelT], result: Mapping[str, Any], what: str) -> ModelT:
    if not isinstance(result, Mapping):
        raise ReportDataError(what, [Issue("", "expected a JSON object")])
    try:
        return model.model_validate(result)
    except ValidationError as error:
        issues = [
            Issue(".".join(str(p) for p in e["loc"]), str(e["msg"])[:200]) for e in error.errors()
        ]
        raise ReportDataError(what, issues) from None


def _page(template: str, scripts: list[str], **context: Any) -> str:
    sources = [_asset(LIBRARY_FILE), *(_asset(f"assets/{s}") for s in scripts)]
    return (
        _environment()
        .get_template(template)
        .render(
            csp=content_security_policy(sources),
            style=_asset("assets/report.css"),
            scripts=sources,
            library=f"{LIBRARY_NAME} {LIBRARY_VERSION}",
            version=__version__,
            generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            **context,
        )
    )


# -- backtest -----------------------------------------------------------------------------


def render_backtest_report(result: Mapping[str, Any], operation_id: str | None = None) -> str:
    view = _parse(BacktestResultView, result, "backtest result")
    notices: list[str] = []
    chart = view.chart or _chart_from_equity_curve(result.get("equity_curve"))
    if view.chart is None:
        notices.append(
            "This result holds no price bars (it was made by an older version of ktrdr): "
            "the candles and trade markers are missing. Run the backtest again to see them."
        )
    if view.benchmark is None:
        notices.append("This result holds no buy-and-hold benchmark (older version of ktrdr).")
    if chart is not None and chart.step > 1:
        notices.append(
            f"{chart.bars:,} bars are drawn as {len(chart.time):,} candles of {chart.step} bars."
        )
    trades = view.trades[:MAX_TRADE_ROWS]
    if len(view.trades) > MAX_TRADE_ROWS:
        notices.append(
            f"The trade list and the markers show the first {MAX_TRADE_ROWS:,} of "
            f"{len(view.trades):,} trades; every trade is in the result JSON."
        )
    payload = _backtest_payload(view, chart, trades)
    title = " · ".join(p for p in (view.strategy, view.symbol, view.timeframe) if p)
    return _page(
        "backtest.html.j2",
        ["common.js", "backtest.js"],
        title=f"Backtest {title}",
        view=view,
        operation_id=operation_id,
        provenance=_backtest_provenance(view, operation_id),
        metrics=_metric_rows(view),
        per_symbol=_per_symbol_rows(view),
        trades=trades,
        notices=notices,
        has_candles=bool(chart and any(v is not None for v in chart.close)),
        has_chart=chart is not None,
        payload=payload,
    )


def _chart_from_equity_curve(curve: Any) -> ChartSeries | None:
    """An older result's ``[[time, equity], ...]``: the equity chart without candles."""
    if not isinstance(curve, list) or not curve:
        return None
    step = max(1, math.ceil(len(curve) / MAX_CHART_POINTS))
    curve = curve[step - 1 :: step] if step > 1 else curve  # the last point of each group
    try:
        times = [fmt.unix_seconds(str(point[0])) for point in curve]
        equity = [None if point[1] is None else float(point[1]) for point in curve]
        empty: list[float | None] = [None] * len(times)
        return ChartSeries(
            time=times, open=empty, high=empty, low=empty, close=empty, equity=equity
        )
    except (ValueError, TypeError, IndexError, ValidationError):
        return None


def underwater(equity: list[float | None]) -> list[float | None]:
    """Drawdown at each point as a negative fraction of the running peak (0 at a peak)."""
    peak = 0.0
    out: list[float | None] = []
    for value in equity:
        if value is None:
            out.append(None)
            continue
        peak = max(peak, value)
        # Six decimals: a ten-thousandth of a percent, far below what a chart shows.
        out.append(round(value / peak - 1.0, 6) if peak > 0 else None)
    return out


def trade_markers(trades: list[TradeRow], times: list[int]) -> list[dict[str, Any]]:
    """Two markers per trade, on the candle holding each fill: arrows at entries (up for a
    long, down for a short), circles at exits, green for longs and red for shorts."""
    markers = []
    labelled = len(trades) <= MAX_LABELLED_TRADES
    for number, trade in enumerate(trades, start=1):
        long = trade.side == "long"
        colour = LONG_COLOUR if long else SHORT_COLOUR
        for kind, stamp in (("entry", trade.entry_time), ("exit", trade.exit_time)):
            entering = kind == "entry"
            below = long == entering  # a long enters below the bar, a short above
            markers.append(
                {
                    "time": _candle_time(times, fmt.unix_seconds(stamp)),
                    "position": "belowBar" if below else "aboveBar",
                    "shape": ("arrowUp" if long else "arrowDown") if entering else "circle",
                    "color": colour,
                    "text": _marker_text(long, entering, number) if labelled else "",
                    "id": f"{kind}-{number}",
                }
            )
    markers.sort(key=lambda m: m["time"])  # the library wants them in time order
    return markers


def _marker_text(long: bool, entering: bool, number: int) -> str:
    return f"{'L' if long else 'S'}{number}" if entering else f"x{number}"


def _candle_time(times: list[int], stamp: int) -> int:
    index = max(bisect.bisect_right(times, stamp) - 1, 0)
    return times[index]


def _backtest_payload(
    view: BacktestResultView, chart: ChartSeries | None, trades: list[TradeRow]
) -> dict[str, Any]:
    if chart is None:
        return {"chart": None, "markers": [], "trades": len(trades)}
    intraday = (
        len(chart.time) > 1
        and min(b - a for a, b in zip(chart.time, chart.time[1:], strict=False)) < 86_400
    )
    return {
        "chart": {
            "time": chart.time,
            "open": chart.open,
            "high": chart.high,
            "low": chart.low,
            "close": chart.close,
            "equity": chart.equity,
            "benchmark_equity": chart.benchmark_equity,
            "drawdown": underwater(chart.equity),
            "benchmark_drawdown": underwater(chart.benchmark_equity or []),
        },
        "markers": trade_markers(trades, chart.time) if any(chart.close) else [],
        "trades": len(trades),
        "intraday": intraday,
        "symbol": view.symbol or "",
    }


PER_SYMBOL_KEYS = ("total_return", "sharpe_ratio", "max_drawdown", "num_trades")


def _per_symbol_rows(view: BacktestResultView) -> list[dict[str, Any]]:
    """A multi-symbol result's line per symbol, then the equal-weight combination's."""
    if not view.per_symbol:
        return []
    parts = list(view.per_symbol.items())
    if view.combined is not None:
        parts.append(("Combined (equal weight)", view.combined))
    rows = []
    for name, part in parts:
        start = part.range.start if part.range else part.start
        end = part.range.end if part.range else part.end
        rows.append(
            {
                "name": name,
                "combined": part is view.combined,
                "window": f"{fmt.format_time(start)} .. {fmt.format_time(end)}"
                if start and end
                else fmt.MISSING,
                "metrics": [(key, part.metrics.get(key)) for key in PER_SYMBOL_KEYS],
                "benchmark": (part.benchmark or {}).get("total_return"),
                "excess_return": part.excess_return,
            }
        )
    return rows


def _metric_rows(view: BacktestResultView) -> list[dict[str, Any]]:
    benchmark = view.benchmark or {}
    return [
        {
            "key": key,
            "label": fmt.metric_label(key),
            "strategy": value,
            "benchmark": benchmark.get(key),
            "has_benchmark": key in benchmark,
        }
        for key, value in view.metrics.items()
    ]


def _backtest_provenance(
    view: BacktestResultView, operation_id: str | None
) -> list[tuple[str, str]]:
    rows = [("Strategy", view.strategy), ("Model", view.model_id or fmt.MISSING)]
    if view.model_created_at:
        rows.append(("Model trained", fmt.format_time(view.model_created_at)))
    rows.append(("Symbol", f"{view.symbol or fmt.MISSING} {view.timeframe or ''}".strip()))
    if view.range is not None:
        source = {
            "test_split": "the model's test split (out of sample)",
            "explicit": "dates given",
            "all_data": "all data",
        }.get(view.range.source or "", view.range.source or fmt.MISSING)
        span = f"{fmt.format_time(view.range.start)} .. {fmt.format_time(view.range.end)}"
        bars = f", {view.bars:,} bars" if view.bars is not None else ""
        rows.append(("Data range", f"{span}{bars} ({source})"))
    for split in ("train", "validation", "test"):
        span = (view.splits or {}).get(split)
        if span and len(span) == 2:
            label = f"Model's {split} split"
            rows.append((label, f"{fmt.format_time(span[0])} .. {fmt.format_time(span[1])}"))
    costs = view.costs or {}
    if costs:
        rows.append(("Initial capital", fmt.format_money(costs.get("initial_capital"))))
        rows.append(
            (
                "Costs",
                f"commission {fmt.format_percent(costs.get('commission'), 3)} per side, "
                f"slippage {fmt.format_percent(costs.get('slippage'), 3)}",
            )
        )
        rows.append(("Position size", fmt.format_percent(costs.get("position_size"), 0)))
        rows.append(("Risk-free rate", fmt.format_percent(costs.get("risk_free_rate"), 2)))
    if view.decisions:
        d = view.decisions
        rows.append(
            (
                "Decisions",
                f"confidence >= {d.get('confidence_threshold')}, "
                f"position awareness {'on' if d.get('position_awareness') else 'off'}, "
                "shorts from flat "
                + ("allowed" if d.get("allow_short_from_flat") else "not allowed"),
            )
        )
    if view.signal_counts:
        c = view.signal_counts
        rows.append(
            (
                "Signals",
                f"{c.get('buy', 0):,} buy, {c.get('hold', 0):,} hold, {c.get('sell', 0):,} sell",
            )
        )
    if operation_id:
        rows.append(("Operation", operation_id))
    return rows


# -- training -----------------------------------------------------------------------------


def render_training_report(result: Mapping[str, Any], operation_id: str | None = None) -> str:
    view = _parse(TrainingResultView, result, "training result")
    notices = []
    history = view.history or []
    if not history:
        notices.append(
            "This result holds no per-epoch history (it was made by an older version of "
            "ktrdr): the loss and accuracy charts are missing. Train again to see them."
        )
    splits = [
        (name, view.metrics[name])
        for name in ("train", "validation", "test")
        if name in view.metrics
    ]
    return _page(
        "training.html.j2",
        ["common.js", "training.js"],
        title=f"Training {view.strategy}" + (f" · {view.model_id}" if view.model_id else ""),
        view=view,
        operation_id=operation_id,
        provenance=_training_provenance(view, operation_id),
        stopping=_stopping_summary(view),
        splits=splits,
        balance=_class_balance(splits),
        confusions=[(name, split) for name, split in splits if name != "train" and split.confusion],
        classes=CLASS_NAMES,
        notices=notices,
        payload={
            "history": [row.model_dump() for row in history],
            "best_epoch": view.best_epoch,
        },
    )


def _stopping_summary(view: TrainingResultView) -> str:
    ran, planned, best = view.epochs_run, view.epochs_configured, view.best_epoch
    if ran is None:
        return "Epochs run: not recorded."
    text = f"Ran {ran} of {planned} epochs" if planned else f"Ran {ran} epochs"
    stopping = view.early_stopping or {}
    if planned and ran < planned:
        text += f", stopped early (no better validation loss for {stopping.get('patience')} epochs)"
    elif stopping.get("enabled") is False:
        text += " (early stopping off)"
    if best:
        text += f"; the weights kept are those of epoch {best}, the lowest validation loss."
    else:
        text += "."
    return text


def _class_balance(splits: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for name, split in splits:
        counts = split.label_counts or {}
        total = sum(counts.values())
        rows.append(
            {
                "split": name,
                "total": total,
                "classes": [
                    (counts.get(c, 0), (counts.get(c, 0) / total) if total else None)
                    for c in CLASS_NAMES
                ],
            }
        )
    return rows


def _purge_line(purge: dict[str, Any]) -> str:
    """Rows each split lost to the label horizon (and the embargo), in one line."""
    purged = purge.get("purged") or {}
    embargoed = purge.get("embargoed") or {}
    parts = [
        f"{split} {purged.get(split, 0):,}"
        + (f" + {embargoed[split]:,} embargoed" if embargoed.get(split) else "")
        for split in ("train", "validation", "test")
    ]
    return f"label horizon {purge.get('label_horizon')} bars: " + ", ".join(parts)


def _training_provenance(
    view: TrainingResultView, operation_id: str | None
) -> list[tuple[str, str]]:
    rows = [("Strategy", view.strategy), ("Model", view.model_id or fmt.MISSING)]
    rows.append(("Timeframe", view.timeframe or fmt.MISSING))
    device = view.device or fmt.MISSING
    if view.training_seconds is not None:
        device += f", {view.training_seconds:.1f} s"
    rows.append(("Trained on", device))
    for symbol, ranges in (view.ranges or {}).items():
        parts = [
            f"{split} {fmt.format_time(span[0])} .. {fmt.format_time(span[1])}"
            for split, span in ranges.items()
            if len(span) == 2
        ]
        rows.append((f"{symbol} splits", "; ".join(parts)))
    if view.data_split:
        rows.append(
            (
                "Split fractions",
                ", ".join(
                    f"{k} {fmt.format_percent(v, 0)}"
                    for k, v in view.data_split.items()
                    if k in ("train", "validation", "test")
                ),
            )
        )
    if view.rows:
        rows.append(("Rows", ", ".join(f"{k} {v:,}" for k, v in view.rows.items())))
    if view.purge:
        rows.append(("Purged rows", _purge_line(view.purge)))
    if view.resumed_from_epoch:
        rows.append(("Resumed", f"from the checkpoint of epoch {view.resumed_from_epoch}"))
    if view.early_stopping:
        e = view.early_stopping
        rows.append(
            (
                "Early stopping",
                f"patience {e.get('patience')}, min delta {e.get('min_delta')}"
                if e.get("enabled")
                else "off",
            )
        )
    if operation_id:
        rows.append(("Operation", operation_id))
    return rows


# -- dispatch and problems -----------------------------------------------------------------


def render_report(
    operation_type: str, result: Mapping[str, Any], operation_id: str | None = None
) -> str:
    """The report of a finished operation of ``operation_type`` (any operation type)."""
    if operation_type == "training":
        return render_training_report(result, operation_id)
    if operation_type == "backtesting":
        return render_backtest_report(result, operation_id)
    if operation_type == "walkforward":
        return render_walkforward_report(result, operation_id)
    if operation_type == "sweep":
        return render_sweep_report(result, operation_id)
    raise ReportDataError("result", [Issue("type", f"no report for {operation_type!r}")])


def render_walkforward_report(result: Mapping[str, Any], operation_id: str | None = None) -> str:
    """Per-fold table, the stitched out-of-sample equity against buy and hold, its metrics."""
    view = _parse(WalkForwardView, result, "walk-forward result")
    context = walkforward_context(view, operation_id)
    return _page(
        "walkforward.html.j2",
        ["common.js", "walkforward.js"],
        notices=[],
        operation_id=operation_id,
        **context,
    )


def render_sweep_report(result: Mapping[str, Any], operation_id: str | None = None) -> str:
    """Trials table (state, objective, sampled values), objective history, the best trial."""
    view = _parse(SweepView, result, "sweep result")
    context = sweep_context(view, operation_id)
    return _page(
        "sweep.html.j2", ["common.js", "sweep.js"], notices=[], operation_id=operation_id, **context
    )


def render_problem_page(
    title: str, message: str, details: list[tuple[str, str]] | None = None, status: int = 400
) -> str:
    """A page saying why there is no report (no scripts: it always shows)."""
    return (
        _environment()
        .get_template("problem.html.j2")
        .render(
            title=title,
            message=message,
            details=details or [],
            status=status,
            style=_asset("assets/report.css"),
            version=__version__,
        )
    )
