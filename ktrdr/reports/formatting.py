"""How a report writes numbers, dates and names: one place, shared by every table."""

from __future__ import annotations

import datetime as dt
import math

MISSING = "n/a"
METRIC_LABELS: dict[str, str] = {
    "total_return": "Total return",
    "annualized_return": "Annualised return",
    "volatility": "Volatility (annualised)",
    "sharpe_ratio": "Sharpe ratio",
    "sortino_ratio": "Sortino ratio",
    "calmar_ratio": "Calmar ratio",
    "max_drawdown": "Max drawdown",
    "max_drawdown_duration_bars": "Longest drawdown (bars)",
    "win_rate": "Win rate",
    "profit_factor": "Profit factor",
    "num_trades": "Trades",
    "exposure": "Exposure (time in market)",
    "avg_holding_bars": "Average holding (bars)",
}
PERCENT_METRICS = frozenset(
    {
        "total_return",
        "annualized_return",
        "volatility",
        "max_drawdown",
        "win_rate",
        "exposure",
        "excess_return",
    }
)
INTEGER_METRICS = frozenset({"num_trades", "max_drawdown_duration_bars"})


def metric_label(name: str) -> str:
    return METRIC_LABELS.get(name, name.replace("_", " ").capitalize())


def format_metric(name: str, value: float | int | None) -> str:
    """Percentages with two decimals, counts as integers, ratios with three decimals.

    ``None`` is what a result stores for an undefined or infinite value (a profit
    factor without losses): it reads "n/a".
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    if name in PERCENT_METRICS:
        return f"{value * 100:.2f}%"
    if name in INTEGER_METRICS:
        return f"{int(value):,}"
    if name == "avg_holding_bars":
        return f"{value:.1f}"
    return f"{value:.3f}"


def format_percent(value: float | None, digits: int = 2) -> str:
    return MISSING if value is None else f"{value * 100:.{digits}f}%"


def format_money(value: float | None) -> str:
    return MISSING if value is None else f"{value:,.2f}"


def format_price(value: float | None) -> str:
    return MISSING if value is None else f"{value:,.4f}"


def format_number(value: float | int | None, digits: int = 4) -> str:
    if value is None:
        return MISSING
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def format_time(value: str | None) -> str:
    """An ISO timestamp as ``YYYY-MM-DD`` (midnight UTC) or ``YYYY-MM-DD HH:MM`` UTC."""
    if not value:
        return MISSING
    try:
        stamp = parse_time(value)
    except ValueError:
        return value
    if (stamp.hour, stamp.minute, stamp.second) == (0, 0, 0):
        return stamp.strftime("%Y-%m-%d")
    return stamp.strftime("%Y-%m-%d %H:%M")


def parse_time(value: str) -> dt.datetime:
    """An ISO-8601 timestamp, UTC when it names no zone."""
    stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def unix_seconds(value: str) -> int:
    return int(parse_time(value).timestamp())
