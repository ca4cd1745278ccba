"""Timeframe strings ("1m", "15m", "1h", "4h", "1d", "1w"): durations and annualisation.

A timeframe is a positive count followed by a lower-case unit: ``m`` minutes, ``h``
hours, ``d`` days, ``w`` weeks. Upper case is refused because "1M" reads as a month.
"""

from __future__ import annotations

import re
from datetime import timedelta

from ktrdr.core.errors import InvalidInputError

# A count of 1 to 9999 and a unit; also part of model ids ("rsi/1d_v3").
TIMEFRAME_PATTERN = r"[1-9][0-9]{0,3}[mhdw]"
TIMEFRAME_RE = re.compile(r"^([1-9][0-9]{0,3})([mhdw])$")

TRADING_DAYS_PER_YEAR = 252
TRADING_HOURS_PER_DAY = 6.5  # a regular US equity session
WEEKS_PER_YEAR = 52

_UNIT_DELTA = {
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}


def parse_timeframe(timeframe: str) -> tuple[int, str]:
    """Split a timeframe into (count, unit), e.g. "15m" -> (15, "m")."""
    if not isinstance(timeframe, str):
        raise InvalidInputError(
            f"timeframe must be a string, got {type(timeframe).__name__}", field="timeframe"
        )
    match = TIMEFRAME_RE.match(timeframe)
    if match is None:
        raise InvalidInputError(
            f"timeframe {str(timeframe)[:20]!r} is not valid: expected a number from 1 to 9999 "
            "followed by m (minutes), h (hours), d (days) or w (weeks), e.g. 1m, 15m, 1h, 1d, 1w",
            field="timeframe",
        )
    return int(match.group(1)), match.group(2)


def validate_timeframe(timeframe: str) -> str:
    """Return the timeframe unchanged if valid (e.g. "1d"), else raise InvalidInputError."""
    parse_timeframe(timeframe)
    return timeframe


def timeframe_duration(timeframe: str) -> timedelta:
    """The length of one bar, e.g. "4h" -> timedelta(hours=4)."""
    count, unit = parse_timeframe(timeframe)
    return count * _UNIT_DELTA[unit]


def is_intraday(timeframe: str) -> bool:
    """True for minute and hour bars."""
    return parse_timeframe(timeframe)[1] in ("m", "h")


def bars_per_year(timeframe: str) -> int:
    """Bars in a trading year (252 sessions of 6.5 hours, 52 weeks), at least 1.

    Used to annualise returns and volatility: 1d -> 252, 1w -> 52, 1h -> 1638.
    """
    count, unit = parse_timeframe(timeframe)
    if unit == "w":
        per_year = WEEKS_PER_YEAR / count
    elif unit == "d":
        per_year = TRADING_DAYS_PER_YEAR / count
    else:
        minutes = count * (60 if unit == "h" else 1)
        per_year = TRADING_DAYS_PER_YEAR * TRADING_HOURS_PER_DAY * 60 / minutes
    return max(1, round(per_year))


def timeframe_sort_key(timeframe: str) -> timedelta:
    """Sort timeframes from shortest to longest."""
    return timeframe_duration(timeframe)
