"""OHLCV frames: load from the store, derive higher timeframes, align them without lookahead.

Conventions: the index is a UTC ``DatetimeIndex`` named "timestamp" and a bar's timestamp
is the start of its period, so it closes at ``timestamp + duration``. Weekly bars are the
exception: they are labelled by the Friday that ends them (pandas "W-FRI") and close at
the end of that Friday, i.e. Saturday 00:00 UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from ktrdr.core.errors import InvalidInputError
from ktrdr.core.names import validate_symbol
from ktrdr.core.timeframes import parse_timeframe, timeframe_duration
from ktrdr.research.data.csv_format import Bar
from ktrdr.research.data.store import DataStore, SeriesNotFoundError

OHLCV_COLUMNS = ["open", "high", "low", "close", "volume"]
_FRIDAY = 4
_EPOCH_FRIDAY = pd.Timestamp("1970-01-02", tz="UTC")  # anchors multi-week periods
_AGGREGATION = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}


def _utc_index(index: pd.Index) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(index)
    return index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")


def _bound(moment: datetime | date | None) -> pd.Timestamp | None:
    if moment is None:
        return None
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def bars_to_frame(bars: Sequence[Bar]) -> pd.DataFrame:
    """Bars as a float64 frame with a UTC index named "timestamp"."""
    index = pd.DatetimeIndex(
        pd.to_datetime([bar.timestamp for bar in bars], utc=True), name="timestamp"
    )
    values = np.array([tuple(bar)[1:] for bar in bars], dtype=np.float64).reshape(-1, 5)
    return pd.DataFrame(values, index=index, columns=OHLCV_COLUMNS)


def _week_ends(index: pd.DatetimeIndex, weeks: int) -> pd.DatetimeIndex:
    """The Friday (00:00 UTC) ending the (multi-)week period that holds each timestamp."""
    days = index.normalize()
    fridays = days + pd.to_timedelta((_FRIDAY - days.day_of_week) % 7, unit="D")
    if weeks > 1:
        elapsed = (fridays - _EPOCH_FRIDAY) // pd.Timedelta(weeks=1)
        blocks = -(-elapsed // weeks)  # ceiling: a period ends on every n-th Friday
        fridays = _EPOCH_FRIDAY + pd.to_timedelta(blocks * weeks * 7, unit="D")
    return pd.DatetimeIndex(fridays)


def bar_close_times(index: pd.Index, timeframe: str) -> pd.DatetimeIndex:
    """When each bar's values are final: start + duration; weekly: the Saturday after.

    A weekly label on any day of its week (e.g. a Monday-labelled file) maps to the end
    of that week's Friday, so no label convention can leak a week early.
    """
    index = _utc_index(index)
    count, unit = parse_timeframe(timeframe)
    if unit == "w":
        return _week_ends(index, count) + pd.Timedelta(days=1)
    return index + pd.Timedelta(timeframe_duration(timeframe))


def resample_ohlcv(frame: pd.DataFrame, target_timeframe: str) -> pd.DataFrame:
    """OHLCV bars of ``target_timeframe`` from finer bars; empty periods are dropped.

    Open is the first, high the max, low the min, close the last, volume the sum. Weekly
    periods end on Friday and are labelled by it (pandas "W-FRI", closed and labelled
    right, applied to calendar dates so intraday Friday bars stay in their week); other
    periods are labelled by their start and aligned to the Unix epoch (midnight UTC).
    """
    count, unit = parse_timeframe(target_timeframe)
    frame = frame[OHLCV_COLUMNS]
    index = _utc_index(frame.index)
    if not index.is_monotonic_increasing:
        order = np.argsort(index.asi8, kind="stable")
        frame, index = frame.iloc[order], index[order]
    if unit == "w":
        keys = _week_ends(index, count)
    else:
        keys = index.floor(pd.Timedelta(timeframe_duration(target_timeframe)))
    grouped = frame.set_axis(index).groupby(keys.rename("timestamp"), sort=True)
    out = grouped.agg(_AGGREGATION)[OHLCV_COLUMNS].astype(np.float64)
    out.index = pd.DatetimeIndex(out.index, name="timestamp")
    return out


def align_to_base(
    higher: pd.DataFrame,
    higher_timeframe: str,
    base_index: pd.DatetimeIndex,
    base_timeframe: str,
) -> pd.DataFrame:
    """Values of ``higher`` (any columns) on ``base_index``, without lookahead.

    Base bar t shows the latest higher bar whose close time (see :func:`bar_close_times`)
    is <= t's close time; rows before any higher bar has closed are NaN. So a Friday
    daily bar sees the week ending that Friday and a Thursday one the week before.
    """
    higher_index = _utc_index(higher.index)
    if not higher_index.is_monotonic_increasing:
        order = np.argsort(higher_index.asi8, kind="stable")
        higher, higher_index = higher.iloc[order], higher_index[order]
    available = bar_close_times(higher_index, higher_timeframe)
    base_close = bar_close_times(base_index, base_timeframe)
    # The last higher bar available at each base close: an as-of join (forward fill).
    positions = available.searchsorted(base_close, side="right") - 1
    aligned = higher.reset_index(drop=True).reindex(np.where(positions >= 0, positions, -1))
    aligned.index = _utc_index(base_index).rename(base_index.name)
    return aligned


def derivation_base(store: DataStore, symbol: str, timeframe: str) -> str | None:
    """The coarsest stored timeframe of ``symbol`` that ``timeframe`` can be built from."""
    target = timeframe_duration(timeframe)
    candidates = [
        tf
        for tf in store.timeframes(symbol)
        if timeframe_duration(tf) < target and target % timeframe_duration(tf) == timedelta(0)
    ]
    return max(candidates, key=timeframe_duration, default=None)


def _between(
    frame: pd.DataFrame, start: datetime | date | None, end: datetime | date | None
) -> pd.DataFrame:
    low, high = _bound(start), _bound(end)
    mask = np.ones(len(frame), dtype=bool)
    if low is not None:
        mask &= frame.index >= low
    if high is not None:
        mask &= frame.index <= high
    return frame[mask]


def load_timeframe(
    store: DataStore,
    symbol: str,
    timeframe: str,
    base_timeframe: str,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
) -> pd.DataFrame:
    """``timeframe`` bars derived from the stored ``base_timeframe`` series.

    The whole base series is resampled before ``start``/``end`` select bars by label,
    so the range never cuts a period short.
    """
    if timeframe_duration(timeframe) <= timeframe_duration(base_timeframe):
        raise InvalidInputError(f"cannot derive {timeframe} bars from {base_timeframe} bars")
    base = bars_to_frame(store.read_bars(symbol, base_timeframe))
    return _between(resample_ohlcv(base, timeframe), start, end)


def load_frame(
    store: DataStore,
    symbol: str,
    timeframe: str,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
) -> pd.DataFrame:
    """A stored series as a frame; a missing higher timeframe is derived from a finer one.

    Raises SeriesNotFoundError when neither the series nor a usable base exists.
    """
    if store.has_series(symbol, timeframe):
        return bars_to_frame(store.read_bars(symbol, timeframe, start, end))
    base = derivation_base(store, symbol, timeframe)
    if base is None:
        raise SeriesNotFoundError(validate_symbol(symbol), timeframe)
    return load_timeframe(store, symbol, timeframe, base, start, end)
