"""The OHLCV CSV format: strict validation with line numbers, gap detection, writing.

Format: a header ``timestamp,open,high,low,close,volume`` (any case; ``date`` may stand
for ``timestamp``; extra columns are ignored), then one bar per line, oldest first.
Timestamps are ISO-8601: a bare date means 00:00 UTC, naive date-times are read as UTC
and zoned ones are converted to UTC. A bar's timestamp is the start of its period.

Pure Python on purpose: the backend validates uploads without the compute stack.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from ktrdr.core.errors import InvalidInputError
from ktrdr.core.timeframes import parse_timeframe, timeframe_duration

REQUIRED_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
PRICE_COLUMNS = ("open", "high", "low", "close")
NUMERIC_COLUMNS = (*PRICE_COLUMNS, "volume")
HEADER = ",".join(REQUIRED_COLUMNS)
MAX_REPORTED_ERRORS = 200
# Up to this many missing weekdays in a row is taken for a market holiday.
MAX_HOLIDAY_WEEKDAYS = 2


class Bar(NamedTuple):
    """One OHLCV bar; ``timestamp`` is timezone-aware UTC and marks the bar's start."""

    timestamp: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float

    def to_dict(self) -> dict[str, str | float]:
        """JSON-ready: the timestamp as canonical ISO-8601 UTC text."""
        return {
            "timestamp": format_timestamp(self.timestamp),
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "close": self.close,
            "volume": self.volume,
        }


@dataclass(frozen=True)
class CsvProblem:
    """A rule broken on ``line`` (1-based; the header is line 1)."""

    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.field}" if self.field else "")
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, int | str | None]:
        return {"line": self.line, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Gap:
    """Bars missing between two consecutive bars ``start`` and ``end`` (both present).

    ``missing_bars`` is an estimate: weekdays for daily bars, calendar slots (closed
    hours included) for intraday bars. ``reason`` is one of "weekend", "overnight",
    "holiday" (expected) or "unexpected". ``line`` is the line of the ``end`` bar.
    """

    start: datetime
    end: datetime
    missing_bars: int
    expected: bool
    reason: str
    line: int

    def __str__(self) -> str:
        return (
            f"{format_timestamp(self.start)} -> {format_timestamp(self.end)} "
            f"(line {self.line}): ~{self.missing_bars} missing bars, {self.reason}"
        )

    def to_dict(self) -> dict[str, str | int | bool]:
        return {
            "start": format_timestamp(self.start),
            "end": format_timestamp(self.end),
            "missing_bars": self.missing_bars,
            "expected": self.expected,
            "reason": self.reason,
            "line": self.line,
        }


@dataclass
class CsvReport:
    """Everything learnt from one CSV text. ``errors`` holds at most MAX_REPORTED_ERRORS."""

    bars: list[Bar] = field(default_factory=list)
    errors: list[CsvProblem] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    error_count: int = 0
    timeframe: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def more_errors(self) -> int:
        """Errors found but not kept in ``errors`` because of the cap."""
        return self.error_count - len(self.errors)

    @property
    def unexpected_gaps(self) -> list[Gap]:
        return [gap for gap in self.gaps if not gap.expected]

    def summary(self, limit: int = 20) -> str:
        """The first ``limit`` errors, one per line, and how many more there are."""
        if self.ok:
            return f"valid: {len(self.bars)} bars"
        shown = self.errors[:limit]
        lines = [str(problem) for problem in shown]
        more = self.error_count - len(shown)
        if more:
            lines.append(f"... and {more} more problem{'s' if more != 1 else ''}")
        return "\n".join(lines)

    def add_error(self, line: int, field_name: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(CsvProblem(line, field_name, message))


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO-8601 date or date-time into an aware UTC datetime (naive = UTC)."""
    text = value.strip()
    if not text:
        raise InvalidInputError("empty timestamp", field="timestamp")
    try:
        parsed = datetime.fromisoformat(text)
        # Offsets near year 1 or 9999 leave datetime's range once moved to UTC.
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInputError(
            f"timestamp {value[:40]!r} is not an ISO-8601 time between years 1 and 9999 "
            "(e.g. 2005-01-03 or 2005-01-03T14:30:00Z)",
            field="timestamp",
        ) from None


def format_timestamp(timestamp: datetime) -> str:
    """Canonical text of a timestamp: ISO-8601 UTC with a Z, e.g. 2005-01-03T00:00:00Z."""
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    return timestamp.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _format_number(value: float) -> str:
    # Whole numbers (volumes, mostly) without ".0"; others as Python's shortest round-trip.
    if float(value).is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(float(value))


def format_bars_csv(bars: Iterable[Bar]) -> str:
    """The canonical CSV text of ``bars``: the standard header, UTC timestamps, "\\n"."""
    lines = [HEADER]
    for bar in bars:
        numbers = ",".join(
            _format_number(x) for x in (bar.open, bar.high, bar.low, bar.close, bar.volume)
        )
        lines.append(f"{format_timestamp(bar.timestamp)},{numbers}")
    return "\n".join(lines) + "\n"


def _parse_number(raw: str) -> tuple[float | None, str | None]:
    text = raw.strip()
    if not text:
        return None, "empty value"
    try:
        value = float(text)
    except ValueError:
        return None, f"{raw!r} is not a number"
    if math.isnan(value):
        return None, "NaN is not allowed"
    if math.isinf(value):
        return None, "infinite value is not allowed"
    return value, None


def _column_index(header: list[str], line: int, report: CsvReport) -> dict[str, int] | None:
    names = [name.strip().lower() for name in header]
    if "timestamp" not in names and "date" in names:
        names[names.index("date")] = "timestamp"
    duplicated = sorted({n for n in REQUIRED_COLUMNS if names.count(n) > 1})
    if duplicated:
        report.add_error(line, None, f"column(s) appear more than once: {', '.join(duplicated)}")
        return None
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        report.add_error(
            line,
            None,
            f"missing required column(s): {', '.join(missing)} "
            f"(expected header {HEADER}; 'date' may replace 'timestamp')",
        )
        return None
    return {name: names.index(name) for name in REQUIRED_COLUMNS}


def _check_prices(report: CsvReport, line: int, values: dict[str, float]) -> bool:
    before = report.error_count
    for name in PRICE_COLUMNS:
        if values[name] <= 0:
            report.add_error(line, name, f"{name} must be positive, got {values[name]:g}")
    if values["volume"] < 0:
        report.add_error(line, "volume", f"volume must not be negative, got {values['volume']:g}")
    high, low = values["high"], values["low"]
    top = max(values["open"], values["close"])
    bottom = min(values["open"], values["close"])
    if high < low:
        report.add_error(line, "high", f"high {high:g} is below low {low:g}")
    if high < top:
        report.add_error(line, "high", f"high {high:g} is below max(open, close) {top:g}")
    if low > bottom:
        report.add_error(line, "low", f"low {low:g} is above min(open, close) {bottom:g}")
    return report.error_count == before


def parse_ohlcv_csv(text: str, timeframe: str | None = None) -> CsvReport:
    """Validate OHLCV CSV text; with ``timeframe``, also find gaps between bars.

    Every broken rule is reported with its line; only rows that break no rule end up in
    ``bars``. A file with any error is not ``ok``. Raises ValueError for a bad timeframe.
    """
    if timeframe is not None:
        parse_timeframe(timeframe)
    report = CsvReport(timeframe=timeframe)
    rows = _rows(text.removeprefix("\ufeff"), report)

    first = next(rows, None)
    if first is None:
        if report.ok:
            report.add_error(1, None, f"the file is empty; expected the header {HEADER}")
        return report
    header_line, header = first
    columns = _column_index(header, header_line, report)
    if columns is None:
        return report

    bar_lines: list[int] = []
    first_line: dict[datetime, int] = {}
    latest: tuple[datetime, int] | None = None
    data_rows = 0
    for line, row in rows:
        data_rows += 1
        if len(row) != len(header):
            report.add_error(line, None, f"expected {len(header)} fields, found {len(row)}")
            continue
        row_ok = True
        timestamp: datetime | None = None
        try:
            timestamp = parse_timestamp(row[columns["timestamp"]])
        except ValueError as exc:
            report.add_error(line, "timestamp", str(exc))
            row_ok = False
        values: dict[str, float] = {}
        for name in NUMERIC_COLUMNS:
            value, problem = _parse_number(row[columns[name]])
            if problem is not None:
                report.add_error(line, name, problem)
                row_ok = False
            else:
                assert value is not None
                values[name] = value
        if len(values) == len(NUMERIC_COLUMNS):
            row_ok = _check_prices(report, line, values) and row_ok
        if timestamp is None:
            continue
        if timestamp in first_line:
            report.add_error(
                line,
                "timestamp",
                f"duplicate timestamp {format_timestamp(timestamp)} "
                f"(first on line {first_line[timestamp]})",
            )
            continue
        first_line[timestamp] = line
        if latest is not None and timestamp < latest[0]:
            report.add_error(
                line,
                "timestamp",
                f"timestamp {format_timestamp(timestamp)} is earlier than "
                f"{format_timestamp(latest[0])} on line {latest[1]}; rows must be oldest first",
            )
            continue
        latest = (timestamp, line)
        if row_ok:
            report.bars.append(Bar(timestamp, **values))
            bar_lines.append(line)

    if data_rows == 0 and report.ok:
        report.add_error(1, None, "no data rows after the header")
    if timeframe is not None:
        report.gaps = find_gaps(report.bars, timeframe, bar_lines)
    return report


def _rows(text: str, report: CsvReport) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows with the line each ends on; malformed CSV stops with an error."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            report.add_error(reader.line_num, None, f"unreadable CSV: {exc}")
            return
        if any(cell.strip() for cell in row):
            yield reader.line_num, row


def _weekdays_between(first: date, last: date) -> int:
    """Monday-to-Friday dates strictly between ``first`` and ``last``."""
    days = (last - first).days - 1
    if days <= 0:
        return 0
    full_weeks, rest = divmod(days, 7)
    count = full_weeks * 5
    day = first + timedelta(days=1 + full_weeks * 7)
    for _ in range(rest):
        count += day.weekday() < 5
        day += timedelta(days=1)
    return count


def classify_gap(start: datetime, end: datetime, timeframe: str, line: int = 0) -> Gap | None:
    """The gap between consecutive bars ``start`` and ``end``, or None when there is none.

    Daily: only a weekend missing -> "weekend"; up to two weekdays -> "holiday"; more ->
    "unexpected". Intraday: within one UTC date -> "unexpected"; across dates with no
    weekday entirely missing -> "overnight" or "weekend"; up to two weekdays -> "holiday".
    (Sessions are assumed not to span UTC midnight.) Weekly: any whole week missing is
    "unexpected"; a day or two of drift in the labels is not a gap.
    """
    count, unit = parse_timeframe(timeframe)
    step = timeframe_duration(timeframe)
    delta = end - start
    if delta <= step:
        return None
    if unit == "w":
        missing = round(delta / step) - 1
        return Gap(start, end, missing, False, "unexpected", line) if missing >= 1 else None

    weekdays = _weekdays_between(start.date(), end.date())
    if unit == "d":
        missing = weekdays // count
        if weekdays == 0:
            return Gap(start, end, 0, True, "weekend", line)
        if missing == 0:
            return None
    else:
        missing = math.ceil(delta / step) - 1
        if start.date() == end.date():
            return Gap(start, end, missing, False, "unexpected", line)
        if weekdays == 0:
            reason = "overnight" if (end.date() - start.date()).days == 1 else "weekend"
            return Gap(start, end, missing, True, reason, line)
    if weekdays <= MAX_HOLIDAY_WEEKDAYS:
        return Gap(start, end, missing, True, "holiday", line)
    return Gap(start, end, missing, False, "unexpected", line)


def find_gaps(bars: list[Bar], timeframe: str, lines: list[int] | None = None) -> list[Gap]:
    """Gaps between consecutive ``bars`` (sorted); ``lines`` gives each bar's line."""
    gaps = []
    for i in range(1, len(bars)):
        line = lines[i] if lines is not None else i + 2
        gap = classify_gap(bars[i - 1].timestamp, bars[i].timestamp, timeframe, line)
        if gap is not None:
            gaps.append(gap)
    return gaps
