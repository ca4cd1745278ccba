"""Read a window of a stored series without parsing the whole file.

Stored series are canonical (``format_bars_csv``: one header, then one bar per line in
time order, validated at import), so a window is found by binary search on byte offsets
and only its lines are parsed: a bar range or the last N bars of a file of a million
rows costs a few dozen reads, not a parse of every row.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from ktrdr.research.data.csv_format import Bar

_BLOCK = 1 << 16


class DamagedSeriesError(ValueError):
    """A line of a stored series does not read as a canonical bar."""


def parse_line(line: bytes) -> Bar:
    try:
        stamp, *numbers = line.decode("ascii").rstrip("\r\n").split(",")
        when = datetime.fromisoformat(stamp.removesuffix("Z")).replace(tzinfo=UTC)
        open_, high, low, close, volume = (float(n) for n in numbers)
    except (UnicodeDecodeError, ValueError) as error:
        raise DamagedSeriesError(f"not a canonical bar line: {line[:80]!r}") from error
    return Bar(when, open_, high, low, close, volume)


def _line_start(handle: BinaryIO, offset: int, data_start: int) -> int:
    """The offset of the first line starting at or after ``offset``."""
    if offset <= data_start:
        return data_start
    handle.seek(offset - 1)
    handle.readline()  # the rest of the line ``offset`` falls in
    return handle.tell()


def _first_at_or_after(
    handle: BinaryIO, moment: datetime, data_start: int, size: int, strictly: bool
) -> int:
    """Offset of the first line whose time is >= ``moment`` (> when ``strictly``)."""
    low, high = data_start, size
    while low < high:
        middle = _line_start(handle, (low + high) // 2, data_start)
        if middle >= high:
            high = (low + high) // 2
            continue
        handle.seek(middle)
        line = handle.readline()
        when = parse_line(line).timestamp
        if when > moment or (when == moment and not strictly):
            high = middle
        else:
            low = middle + len(line)
    return _line_start(handle, low, data_start)


def _last_lines(handle: BinaryIO, start: int, end: int, count: int) -> list[bytes]:
    """Up to ``count`` whole lines ending at ``end``, not before ``start``."""
    chunks: list[bytes] = []
    position, newlines = end, 0
    while position > start and newlines <= count:
        step = min(_BLOCK, position - start)
        position -= step
        handle.seek(position)
        chunk = handle.read(step)
        chunks.append(chunk)
        newlines += chunk.count(b"\n")
    lines = b"".join(reversed(chunks)).splitlines(keepends=True)
    if position > start:
        lines = lines[1:]  # the first one may be cut
    return lines[-count:] if count else []


def read_window(
    path: Path, low: datetime | None, high: datetime | None, limit: int | None
) -> list[Bar]:
    """Bars with ``low <= time <= high``; with ``limit`` only the last ``limit`` of them."""
    with path.open("rb") as handle:
        handle.readline()  # header
        data_start = handle.tell()
        size = handle.seek(0, os.SEEK_END)
        start = (
            data_start
            if low is None
            else _first_at_or_after(handle, low, data_start, size, strictly=False)
        )
        end = (
            size
            if high is None
            else _first_at_or_after(handle, high, data_start, size, strictly=True)
        )
        if start >= end:
            return []
        if limit is not None:
            return [parse_line(line) for line in _last_lines(handle, start, end, limit)]
        handle.seek(start)
        window = handle.read(end - start)
    return [parse_line(line) for line in window.splitlines() if line.strip()]
