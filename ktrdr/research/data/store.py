"""Series on disk: one canonical CSV per symbol and timeframe, ``<SYMBOL>_<TIMEFRAME>.csv``.

User series live in the data directory; bundled read-only samples fill in for any series
the data directory lacks. Imports are validated in full and written atomically (temp
file in the same directory, then ``os.replace``), so a failed import changes nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ktrdr.core.api_models import SeriesSummary
from ktrdr.core.errors import (
    ConflictError,
    InvalidDocumentError,
    InvalidInputError,
    Issue,
    NotFoundError,
)
from ktrdr.core.files import write_atomic
from ktrdr.core.names import validate_symbol
from ktrdr.core.timeframes import timeframe_sort_key, validate_timeframe
from ktrdr.research.data.csv_format import (
    Bar,
    CsvReport,
    Gap,
    format_bars_csv,
    format_timestamp,
    parse_ohlcv_csv,
    parse_timestamp,
)
from ktrdr.research.data.series_file import DamagedSeriesError, read_window

if TYPE_CHECKING:
    from ktrdr.core.settings import Settings

DEFAULT_SAMPLE_DIR = Path(__file__).parent / "samples"
SeriesSource = Literal["user", "sample"]


class SeriesNotFoundError(NotFoundError, KeyError):
    """No stored series (user or sample) for a symbol and timeframe."""

    def __init__(self, symbol: str, timeframe: str) -> None:
        super().__init__(f"no data for {symbol} {timeframe}: import a CSV for it first")
        self.symbol = symbol
        self.timeframe = timeframe

    def __str__(self) -> str:  # KeyError would print the repr of its arguments
        return self.message


class SeriesExistsError(ConflictError, FileExistsError):
    """An import would overwrite a user series without ``replace=True``."""

    def __init__(self, symbol: str, timeframe: str, path: Path) -> None:
        super().__init__(f"{symbol} {timeframe} already exists; pass replace=True to overwrite it")
        self.symbol = symbol
        self.timeframe = timeframe
        self.path = path


class CsvValidationError(InvalidDocumentError):
    """Rejected CSV; ``report`` holds every problem with its line."""

    def __init__(self, report: CsvReport, symbol: str = "", timeframe: str = "") -> None:
        what = f" for {symbol} {timeframe}" if symbol else ""
        count = report.error_count
        super().__init__(
            f"CSV{what} rejected with {count} problem{'s' if count != 1 else ''}:\n"
            + report.summary()
        )
        self.report = report

    @property
    def headline(self) -> str:
        more = f" (and {self.report.more_errors} more)" if self.report.more_errors else ""
        return f"CSV rejected; nothing was written{more}"

    @property
    def issues(self) -> list[Issue]:
        return [
            Issue(f"line {p.line}" + (f", {p.field}" if p.field else ""), p.message)
            for p in self.report.errors
        ]


@dataclass(frozen=True)
class SeriesInfo:
    symbol: str
    timeframe: str
    path: Path
    source: SeriesSource
    bars: int
    start: datetime | None
    end: datetime | None

    def summary(self) -> SeriesSummary:
        """What the API shows of it (no server path)."""
        data = self.to_dict()
        del data["path"]
        return SeriesSummary.model_validate(data)

    def to_dict(self) -> dict[str, str | int | None]:
        return {
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "path": str(self.path),
            "source": self.source,
            "bars": self.bars,
            "start": format_timestamp(self.start) if self.start else None,
            "end": format_timestamp(self.end) if self.end else None,
        }


@dataclass(frozen=True)
class ImportResult:
    """A stored import; ``report`` is the (valid) validation report, gaps included."""

    symbol: str
    timeframe: str
    path: Path
    bars: int
    start: datetime
    end: datetime
    replaced: bool
    report: CsvReport

    @property
    def gaps(self) -> list[Gap]:
        return self.report.gaps


def series_filename(symbol: str, timeframe: str) -> str:
    """``AAPL_1d.csv``; both parts validated (so the name can never leave its directory)."""
    return f"{validate_symbol(symbol)}_{validate_timeframe(timeframe)}.csv"


def _parse_filename(path: Path) -> tuple[str, str] | None:
    symbol, sep, timeframe = path.stem.rpartition("_")
    if not sep:
        return None
    try:
        if validate_symbol(symbol) != symbol:  # only canonical, upper-case names
            return None
        validate_timeframe(timeframe)
    except ValueError:
        return None
    return symbol, timeframe


def _as_utc(moment: datetime | date | str | None) -> datetime | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        return parse_timestamp(moment)
    if not isinstance(moment, datetime):
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _first_field_time(line: bytes) -> datetime | None:
    try:
        return parse_timestamp(line.decode("utf-8").split(",", 1)[0])
    except (UnicodeDecodeError, ValueError):
        return None


def _scan(path: Path) -> tuple[int, datetime | None, datetime | None]:
    """(bars, first, last) of a canonical file, reading only its ends and counting lines."""
    with path.open("rb") as handle:
        handle.readline()  # header
        first_line = handle.readline().strip()
        if not first_line:
            return 0, None, None
        handle.seek(0)
        newlines = 0
        last_byte = b""
        while chunk := handle.read(1 << 20):
            newlines += chunk.count(b"\n")
            last_byte = chunk[-1:]
        lines = newlines + (last_byte != b"\n")
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - 4096))
        tail = handle.read().rstrip(b"\r\n").rsplit(b"\n", 1)[-1].strip()
    return lines - 1, _first_field_time(first_line), _first_field_time(tail)


class DataStore:
    """User series in ``data_dir``, falling back to read-only samples in ``sample_dir``."""

    def __init__(self, data_dir: Path, sample_dir: Path | None = DEFAULT_SAMPLE_DIR) -> None:
        self.data_dir = Path(data_dir)
        self.sample_dir = Path(sample_dir) if sample_dir is not None else None

    @classmethod
    def from_settings(cls, settings: Settings) -> DataStore:
        """The store at ``KTRDR_DATA_DIR`` (default ``~/.ktrdr/data``): the one way to build it."""
        return cls(settings.data_path)

    # --- listing -----------------------------------------------------------------------

    def _files(self) -> dict[tuple[str, str], tuple[Path, SeriesSource]]:
        found: dict[tuple[str, str], tuple[Path, SeriesSource]] = {}
        # Samples first so that a user file for the same series replaces the entry.
        sources: list[tuple[Path | None, SeriesSource]] = [
            (self.sample_dir, "sample"),
            (self.data_dir, "user"),
        ]
        for directory, source in sources:
            if directory is None or not directory.is_dir():
                continue
            for path in sorted(directory.glob("*.csv")):
                key = _parse_filename(path)
                if key is not None and path.is_file():
                    found[key] = (path, source)
        return found

    def list_series(self) -> list[SeriesInfo]:
        """Every available series, user files winning over samples, sorted."""
        infos = []
        for (symbol, timeframe), (path, source) in self._files().items():
            bars, start, end = _scan(path)
            infos.append(SeriesInfo(symbol, timeframe, path, source, bars, start, end))
        infos.sort(key=lambda i: (i.symbol, timeframe_sort_key(i.timeframe)))
        return infos

    def symbols(self) -> list[str]:
        return sorted({symbol for symbol, _ in self._files()})

    def timeframes(self, symbol: str | None = None) -> list[str]:
        wanted = validate_symbol(symbol) if symbol is not None else None
        found = {tf for sym, tf in self._files() if wanted is None or sym == wanted}
        return sorted(found, key=timeframe_sort_key)

    def has_series(self, symbol: str, timeframe: str) -> bool:
        try:
            self.path_for(symbol, timeframe)
        except SeriesNotFoundError:
            return False
        return True

    def path_for(self, symbol: str, timeframe: str) -> Path:
        """The file holding a series: the user's if present, else the sample."""
        name = series_filename(symbol, timeframe)
        for directory in (self.data_dir, self.sample_dir):
            if directory is not None and (directory / name).is_file():
                return directory / name
        raise SeriesNotFoundError(validate_symbol(symbol), timeframe)

    # --- reading -----------------------------------------------------------------------

    def read_bars(
        self,
        symbol: str,
        timeframe: str,
        start: datetime | date | str | None = None,
        end: datetime | date | str | None = None,
        limit: int | None = None,
    ) -> list[Bar]:
        """Bars with ``start <= timestamp <= end``; ``limit`` keeps the last N of those.

        Bounds may be datetimes (naive = UTC), dates (00:00 UTC) or ISO-8601 text (a bad
        one raises ValueError).

        Raises CsvValidationError if the stored file has been damaged.
        """
        if limit is not None and limit < 0:
            raise InvalidInputError(f"limit must not be negative, got {limit}", field="limit")
        path = self.path_for(symbol, timeframe)
        try:
            # A window is found by binary search: only its lines are parsed.
            return read_window(path, _as_utc(start), _as_utc(end), limit)
        except DamagedSeriesError:
            pass  # say what is wrong with the file, line by line
        report = parse_ohlcv_csv(path.read_text(encoding="utf-8"))
        if not report.ok:
            raise CsvValidationError(report, validate_symbol(symbol), timeframe)
        low, high = _as_utc(start), _as_utc(end)
        bars = [
            bar
            for bar in report.bars
            if (low is None or bar.timestamp >= low) and (high is None or bar.timestamp <= high)
        ]
        if limit is not None:
            bars = bars[len(bars) - limit :] if limit else []
        return bars

    def date_range(self, symbol: str, timeframe: str) -> tuple[datetime, datetime]:
        """Timestamps of the first and last bar."""
        path = self.path_for(symbol, timeframe)
        _, start, end = _scan(path)
        if start is None or end is None:
            raise ConflictError(f"{validate_symbol(symbol)} {timeframe} holds no readable bars")
        return start, end

    # --- writing -----------------------------------------------------------------------

    def import_csv(
        self, symbol: str, timeframe: str, text: str, *, replace: bool = False
    ) -> ImportResult:
        """Validate ``text`` and store it as the user series, atomically.

        Raises CsvValidationError (nothing written) if any rule is broken, and
        SeriesExistsError if a user series exists and ``replace`` is False. A sample of
        the same name is never touched: the user file shadows it.
        """
        symbol = validate_symbol(symbol)
        timeframe = validate_timeframe(timeframe)
        target = self.data_dir / series_filename(symbol, timeframe)
        if self.sample_dir is not None and _same_dir(self.data_dir, self.sample_dir):
            raise ConflictError("refusing to write into the bundled sample directory")
        existed = target.is_file()
        if existed and not replace:
            raise SeriesExistsError(symbol, timeframe, target)
        report = parse_ohlcv_csv(text, timeframe)
        if not report.ok:
            raise CsvValidationError(report, symbol, timeframe)

        self.data_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(target, format_bars_csv(report.bars), durable=True)
        return ImportResult(
            symbol=symbol,
            timeframe=timeframe,
            path=target,
            bars=len(report.bars),
            start=report.bars[0].timestamp,
            end=report.bars[-1].timestamp,
            replaced=existed,
            report=report,
        )


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
