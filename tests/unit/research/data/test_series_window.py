"""Windows of a stored series, read by binary search, equal the same window of a full parse."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest

from ktrdr.research.data.csv_format import parse_ohlcv_csv
from ktrdr.research.data.store import CsvValidationError, DataStore


@pytest.fixture
def store(tmp_path: Path) -> DataStore:
    return DataStore(tmp_path / "data")


def test_any_window_equals_the_filtered_full_parse(store: DataStore) -> None:
    bars = parse_ohlcv_csv(store.path_for("AAPL", "1d").read_text()).bars
    rng = random.Random(7)
    for _ in range(200):
        first, last = sorted(rng.sample(range(len(bars)), 2))
        # Bounds on a bar, and between bars (hours off a daily bar's time).
        low = bars[first].timestamp - timedelta(hours=rng.choice([0, 5]))
        high = bars[last].timestamp + timedelta(hours=rng.choice([0, 5]))
        limit = rng.choice([None, 1, 7, 100, 10_000])
        expected = [b for b in bars if low <= b.timestamp <= high]
        if limit is not None:
            expected = expected[-limit:]
        assert store.read_bars("AAPL", "1d", start=low, end=high, limit=limit) == expected


def test_open_ended_windows_and_empty_ones(store: DataStore) -> None:
    bars = parse_ohlcv_csv(store.path_for("IBM", "1d").read_text()).bars
    assert store.read_bars("IBM", "1d") == bars
    assert store.read_bars("IBM", "1d", limit=3) == bars[-3:]
    assert store.read_bars("IBM", "1d", limit=0) == []
    assert store.read_bars("IBM", "1d", start="2030-01-01") == []
    assert store.read_bars("IBM", "1d", end="1990-01-01") == []
    assert store.read_bars("IBM", "1d", start="2013-02-27") == bars[-3:]


def test_a_damaged_file_is_reported_line_by_line(store: DataStore, tmp_path: Path) -> None:
    store.data_dir.mkdir(parents=True)
    (store.data_dir / "BAD_1d.csv").write_text(
        "timestamp,open,high,low,close,volume\n"
        "2024-01-02T00:00:00Z,1,2,0.5,1.5,10\n"
        "2024-01-03T00:00:00Z,garbage\n"
    )
    with pytest.raises(CsvValidationError) as raised:
        store.read_bars("BAD", "1d")
    assert any("line 3" in str(issue) for issue in raised.value.issues)
