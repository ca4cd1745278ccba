from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ktrdr.core.errors import ConflictError
from ktrdr.research.data.csv_format import parse_ohlcv_csv
from ktrdr.research.data.store import (
    DEFAULT_SAMPLE_DIR,
    CsvValidationError,
    DataStore,
    SeriesExistsError,
    SeriesNotFoundError,
)

HEADER = "timestamp,open,high,low,close,volume"


def csv_text(*days: str, close: float = 10.0) -> str:
    rows = [f"{day},10,11,9,{close},100" for day in days]
    return "\n".join([HEADER, *rows]) + "\n"


WEEK = csv_text("2005-01-03", "2005-01-04", "2005-01-05", "2005-01-06", "2005-01-07")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    directory = tmp_path / "samples"
    directory.mkdir()
    (directory / "AAPL_1d.csv").write_text(csv_text("2000-03-01", "2000-03-02"))
    (directory / "IBM_1d.csv").write_text(csv_text("2000-03-01", "2000-03-02", "2000-03-03"))
    return directory


@pytest.fixture
def store(tmp_path: Path, samples: Path) -> DataStore:
    return DataStore(tmp_path / "data", samples)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


# --- import ---------------------------------------------------------------------------


def test_import_creates_the_data_dir_and_writes_canonical_csv(store: DataStore):
    text = "Date,Open,High,Low,Close,Volume\n2005-01-04,10,11,9,10,100\n"
    result = store.import_csv("aapl", "1d", text)
    assert result.symbol == "AAPL"
    assert result.path == store.data_dir / "AAPL_1d.csv"
    assert (result.bars, result.start, result.end, result.replaced) == (
        1,
        utc(2005, 1, 4),
        utc(2005, 1, 4),
        False,
    )
    assert result.path.read_text() == f"{HEADER}\n2005-01-04T00:00:00Z,10,11,9,10,100\n"


def test_import_reports_gaps(store: DataStore):
    result = store.import_csv("X", "1d", csv_text("2005-01-06", "2005-01-07", "2005-01-10"))
    assert [g.reason for g in result.gaps] == ["weekend"]


def test_invalid_import_writes_nothing(store: DataStore):
    bad = csv_text("2005-01-04") + "2005-01-03,10,11,9,10,100\n"
    with pytest.raises(CsvValidationError) as info:
        store.import_csv("AAPL", "1d", bad)
    assert [(p.line, p.field) for p in info.value.report.errors] == [(3, "timestamp")]
    assert "line 3" in str(info.value)
    assert not (store.data_dir / "AAPL_1d.csv").exists()


def test_failed_import_leaves_existing_file_byte_identical_and_no_temp_files(store: DataStore):
    store.import_csv("AAPL", "1d", WEEK)
    before = snapshot(store.data_dir)
    bad = csv_text("2005-01-03").replace("10,11,9", "10,8,9")
    with pytest.raises(CsvValidationError):
        store.import_csv("AAPL", "1d", bad, replace=True)
    with pytest.raises(SeriesExistsError):
        store.import_csv("AAPL", "1d", WEEK)
    assert snapshot(store.data_dir) == before
    assert list(store.data_dir.iterdir()) == [store.data_dir / "AAPL_1d.csv"]


def test_failed_write_removes_its_temp_file(store: DataStore, monkeypatch: pytest.MonkeyPatch):
    store.import_csv("AAPL", "1d", WEEK)
    before = snapshot(store.data_dir)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("ktrdr.research.data.store.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.import_csv("AAPL", "1d", csv_text("2006-01-03"), replace=True)
    assert snapshot(store.data_dir) == before


def test_replace_semantics(store: DataStore):
    store.import_csv("AAPL", "1d", WEEK)
    with pytest.raises(SeriesExistsError, match="replace=True"):
        store.import_csv("AAPL", "1d", csv_text("2006-01-03"))
    result = store.import_csv("AAPL", "1d", csv_text("2006-01-03", close=10.5), replace=True)
    assert result.replaced
    assert [b.timestamp for b in store.read_bars("AAPL", "1d")] == [utc(2006, 1, 3)]
    assert store.read_bars("AAPL", "1d")[0].close == 10.5


def test_importing_over_a_sample_shadows_it_and_leaves_the_sample_alone(
    store: DataStore, samples: Path
):
    before = snapshot(samples)
    result = store.import_csv("AAPL", "1d", WEEK)
    assert not result.replaced
    assert snapshot(samples) == before
    assert store.path_for("AAPL", "1d") == store.data_dir / "AAPL_1d.csv"


def test_never_writes_into_the_sample_dir(samples: Path):
    store = DataStore(samples, samples)
    before = snapshot(samples)
    with pytest.raises(ConflictError, match="sample"):
        store.import_csv("NEW", "1d", WEEK)
    assert snapshot(samples) == before


@pytest.mark.parametrize("symbol", ["../evil", "..", "a/b", "/etc/passwd", "..\\x", ".hidden", ""])
def test_path_traversal_symbols_are_rejected(store: DataStore, tmp_path: Path, symbol: str):
    with pytest.raises(ValueError, match="symbol"):
        store.import_csv(symbol, "1d", WEEK)
    with pytest.raises(ValueError, match="symbol"):
        store.path_for(symbol, "1d")
    assert not store.data_dir.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples"]


@pytest.mark.parametrize("timeframe", ["../1d", "1d/..", "1D", "x"])
def test_bad_timeframes_are_rejected(store: DataStore, timeframe: str):
    with pytest.raises(ValueError, match="timeframe"):
        store.import_csv("AAPL", timeframe, WEEK)


# --- listing --------------------------------------------------------------------------


def test_listing_finds_samples_and_user_data_and_user_wins(store: DataStore):
    store.import_csv("AAPL", "1d", WEEK)
    store.import_csv("MSFT", "1h", csv_text("2005-01-03T14:00:00Z", "2005-01-03T15:00:00Z"))
    store.import_csv("MSFT", "1d", WEEK)
    infos = store.list_series()
    summary = [(i.symbol, i.timeframe, i.source, i.bars) for i in infos]
    assert summary == [
        ("AAPL", "1d", "user", 5),
        ("IBM", "1d", "sample", 3),
        ("MSFT", "1h", "user", 2),
        ("MSFT", "1d", "user", 5),
    ]
    aapl = infos[0]
    assert (aapl.start, aapl.end) == (utc(2005, 1, 3), utc(2005, 1, 7))
    assert aapl.path == store.data_dir / "AAPL_1d.csv"
    assert store.symbols() == ["AAPL", "IBM", "MSFT"]
    assert store.timeframes() == ["1h", "1d"]
    assert store.timeframes("msft") == ["1h", "1d"]
    assert store.timeframes("IBM") == ["1d"]
    assert store.timeframes("NONE") == []


def test_listing_ignores_foreign_files(store: DataStore):
    store.data_dir.mkdir()
    for name in ["notes.txt", "aapl_1d.csv", "AAPL.csv", "AAPL_1x.csv", ".AAPL_1d.csv.x.tmp"]:
        (store.data_dir / name).write_text(WEEK)
    assert [(i.symbol, i.source) for i in store.list_series()] == [
        ("AAPL", "sample"),
        ("IBM", "sample"),
    ]


def test_store_without_samples(tmp_path: Path):
    store = DataStore(tmp_path / "nothing", sample_dir=None)
    assert store.list_series() == []
    with pytest.raises(SeriesNotFoundError):
        store.path_for("AAPL", "1d")


def test_default_sample_dir_is_bundled(tmp_path: Path):
    store = DataStore(tmp_path)
    assert store.sample_dir == DEFAULT_SAMPLE_DIR
    assert {"AAPL", "MSFT", "IBM", "GOOG"} <= set(store.symbols())


def test_missing_series_error_is_key_error_like_and_clear(store: DataStore):
    with pytest.raises(SeriesNotFoundError) as info:
        store.path_for("nope", "1d")
    assert isinstance(info.value, KeyError)
    assert str(info.value) == "no data for NOPE 1d: import a CSV for it first"
    with pytest.raises(KeyError):
        store.read_bars("NOPE", "1d")
    assert not store.has_series("NOPE", "1d")
    assert store.has_series("aapl", "1d")


# --- reading --------------------------------------------------------------------------


def days(bars: list) -> list[int]:
    return [b.timestamp.day for b in bars]


def test_read_bars_date_filters_are_inclusive(store: DataStore):
    store.import_csv("AAPL", "1d", WEEK)
    assert days(store.read_bars("AAPL", "1d")) == [3, 4, 5, 6, 7]
    assert days(store.read_bars("AAPL", "1d", start=utc(2005, 1, 4))) == [4, 5, 6, 7]
    assert days(store.read_bars("AAPL", "1d", end=utc(2005, 1, 5))) == [3, 4, 5]
    assert days(store.read_bars("AAPL", "1d", utc(2005, 1, 4), utc(2005, 1, 6))) == [4, 5, 6]
    # naive datetimes are UTC; dates mean midnight UTC
    assert days(store.read_bars("AAPL", "1d", datetime(2005, 1, 6), date(2005, 1, 7))) == [6, 7]
    assert days(store.read_bars("AAPL", "1d", start=utc(2005, 1, 4, 0, 0, 1))) == [5, 6, 7]
    assert store.read_bars("AAPL", "1d", start=utc(2006, 1, 1)) == []


def test_read_bars_limit_keeps_the_most_recent(store: DataStore):
    store.import_csv("AAPL", "1d", WEEK)
    assert [b.timestamp.day for b in store.read_bars("AAPL", "1d", limit=2)] == [6, 7]
    assert [
        b.timestamp.day for b in store.read_bars("AAPL", "1d", end=utc(2005, 1, 5), limit=2)
    ] == [
        4,
        5,
    ]
    assert store.read_bars("AAPL", "1d", limit=0) == []
    assert len(store.read_bars("AAPL", "1d", limit=99)) == 5
    with pytest.raises(ValueError, match="limit"):
        store.read_bars("AAPL", "1d", limit=-1)


def test_read_bars_falls_back_to_samples(store: DataStore):
    assert [b.timestamp for b in store.read_bars("IBM", "1d")] == [
        utc(2000, 3, 1),
        utc(2000, 3, 2),
        utc(2000, 3, 3),
    ]


def test_read_of_a_damaged_file_raises(store: DataStore):
    store.import_csv("AAPL", "1d", WEEK)
    path = store.path_for("AAPL", "1d")
    path.write_text(path.read_text() + "garbage,1,1,1,1,1\n")
    with pytest.raises(CsvValidationError):
        store.read_bars("AAPL", "1d")


def test_date_range(store: DataStore):
    store.import_csv("AAPL", "1d", WEEK)
    assert store.date_range("AAPL", "1d") == (utc(2005, 1, 3), utc(2005, 1, 7))
    assert store.date_range("IBM", "1d") == (utc(2000, 3, 1), utc(2000, 3, 3))
    with pytest.raises(SeriesNotFoundError):
        store.date_range("NOPE", "1d")


def test_written_file_round_trips(store: DataStore):
    store.import_csv("AAPL", "1d", WEEK)
    text = store.path_for("AAPL", "1d").read_text()
    assert parse_ohlcv_csv(text, "1d").bars == store.read_bars("AAPL", "1d")


def test_from_settings(tmp_path: Path):
    from ktrdr.core.settings import Settings

    store = DataStore.from_settings(Settings(home=tmp_path))
    assert store.data_dir == tmp_path / "data"


def test_read_bars_accepts_iso_text_bounds(store: DataStore):
    store.import_csv("AAPL", "1d", WEEK)
    assert days(store.read_bars("AAPL", "1d", start="2005-01-04", end="2005-01-05")) == [4, 5]
    with pytest.raises(ValueError, match="ISO-8601"):
        store.read_bars("AAPL", "1d", start="last tuesday")


def test_json_ready_dicts(store: DataStore):
    result = store.import_csv("AAPL", "1d", WEEK)
    assert result.report.ok
    assert result.gaps == result.report.gaps
    info = store.list_series()[0].to_dict()
    assert info == {
        "symbol": "AAPL",
        "timeframe": "1d",
        "path": str(store.data_dir / "AAPL_1d.csv"),
        "source": "user",
        "bars": 5,
        "start": "2005-01-03T00:00:00Z",
        "end": "2005-01-07T00:00:00Z",
    }
    assert store.read_bars("AAPL", "1d")[0].to_dict() == {
        "timestamp": "2005-01-03T00:00:00Z",
        "open": 10.0,
        "high": 11.0,
        "low": 9.0,
        "close": 10.0,
        "volume": 100.0,
    }
