from datetime import timedelta

import pytest

from ktrdr.core.names import validate_symbol
from ktrdr.core.timeframes import (
    bars_per_year,
    is_intraday,
    parse_timeframe,
    timeframe_duration,
    validate_timeframe,
)


@pytest.mark.parametrize(
    ("tf", "expected"),
    [
        ("1m", timedelta(minutes=1)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("4h", timedelta(hours=4)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_timeframe_duration(tf, expected):
    assert timeframe_duration(tf) == expected


@pytest.mark.parametrize(
    ("tf", "expected"),
    [("1d", 252), ("1w", 52), ("1h", 1638), ("15m", 6552), ("1m", 98280), ("4h", 410)],
)
def test_bars_per_year(tf, expected):
    assert bars_per_year(tf) == expected


@pytest.mark.parametrize("bad", ["", "1", "d", "0d", "01d", "1D", "1M", "1y", "1.5h", " 1d", "-1d"])
def test_bad_timeframes_are_rejected_with_a_clear_message(bad):
    with pytest.raises(ValueError, match="timeframe"):
        timeframe_duration(bad)
    with pytest.raises(ValueError, match="timeframe"):
        validate_timeframe(bad)


def test_non_string_timeframe_is_rejected():
    with pytest.raises(ValueError, match="string"):
        parse_timeframe(1)  # type: ignore[arg-type]


def test_parse_and_intraday():
    assert parse_timeframe("15m") == (15, "m")
    assert is_intraday("4h")
    assert not is_intraday("1d")
    assert validate_timeframe("1d") == "1d"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("aapl", "AAPL"),
        ("BRK.B", "BRK.B"),
        ("bf-b", "BF-B"),
        ("EUR_USD", "EUR_USD"),
        ("7203", "7203"),
    ],
)
def test_valid_symbols_are_upper_cased(raw, expected):
    assert validate_symbol(raw) == expected


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("", "empty"),
        ("A" * 33, "33 characters"),
        ("../etc", "path separator"),
        ("..", "'..'"),
        ("A..B", "'..'"),
        ("a/b", "path separator"),
        ("a\\b", "path separator"),
        (".hidden", "start with"),
        ("-rf", "start with"),
        ("AAPL.", "end with"),
        ("AA PL", "' '"),
        ("AAPL\x00", "contains"),
        ("ÄAPL", "contains"),
        ("ﬁ", "contains"),  # upper-cases to ASCII "FI"; must still be refused
        ("A*", "'*'"),
    ],
)
def test_bad_symbols_are_rejected_naming_the_problem(bad, problem):
    with pytest.raises(ValueError, match="symbol") as info:
        validate_symbol(bad)
    assert problem in str(info.value)


def test_non_string_symbol_is_rejected():
    with pytest.raises(ValueError, match="string"):
        validate_symbol(None)  # type: ignore[arg-type]
