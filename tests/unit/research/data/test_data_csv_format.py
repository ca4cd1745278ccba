from datetime import UTC, datetime

import pytest

from ktrdr.research.data.csv_format import (
    MAX_REPORTED_ERRORS,
    Bar,
    classify_gap,
    format_bars_csv,
    parse_ohlcv_csv,
    parse_timestamp,
)

HEADER = "timestamp,open,high,low,close,volume"
GOOD = "2005-01-03,10,11,9,10.5,1000"


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def problems(text: str, timeframe: str | None = None) -> list[tuple[int, str | None]]:
    return [(p.line, p.field) for p in parse_ohlcv_csv(text, timeframe).errors]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- valid input ----------------------------------------------------------------------


def test_valid_file_parses_into_bars():
    report = parse_ohlcv_csv(csv_text(GOOD, "2005-01-04,10.5,12,10,11,2000.5"))
    assert report.ok
    assert report.errors == []
    assert report.bars == [
        Bar(utc(2005, 1, 3), 10.0, 11.0, 9.0, 10.5, 1000.0),
        Bar(utc(2005, 1, 4), 10.5, 12.0, 10.0, 11.0, 2000.5),
    ]


def test_header_is_case_insensitive_and_date_may_replace_timestamp():
    text = csv_text(GOOD, header=" Date ,OPEN,High,low,Close,VOLUME")
    report = parse_ohlcv_csv(text)
    assert report.ok
    assert report.bars[0].timestamp == utc(2005, 1, 3)


def test_columns_may_come_in_any_order_and_extras_are_ignored():
    text = csv_text("1000,x,2005-01-03,10.5,9,11,10", header="volume,note,date,close,low,high,open")
    report = parse_ohlcv_csv(text)
    assert report.ok
    assert report.bars == [Bar(utc(2005, 1, 3), 10.0, 11.0, 9.0, 10.5, 1000.0)]


def test_bom_crlf_and_blank_lines_are_tolerated():
    text = "\ufeff" + HEADER + "\r\n" + GOOD + "\r\n\r\n" + "2005-01-04,10,11,9,10,5\r\n"
    report = parse_ohlcv_csv(text)
    assert report.ok
    assert len(report.bars) == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2005-01-03", utc(2005, 1, 3)),
        ("2005-01-03T14:30:00", utc(2005, 1, 3, 14, 30)),
        ("2005-01-03 14:30:00Z", utc(2005, 1, 3, 14, 30)),
        ("2005-01-03T09:30:00-05:00", utc(2005, 1, 3, 14, 30)),
        ("2005-01-03T00:30:00+02:00", utc(2005, 1, 2, 22, 30)),
    ],
)
def test_timestamps_are_converted_to_utc(raw, expected):
    parsed = parse_timestamp(raw)
    assert parsed == expected
    assert parsed.utcoffset().total_seconds() == 0


# --- rules, each with its line --------------------------------------------------------


def test_missing_columns_are_reported_once_naming_them():
    report = parse_ohlcv_csv(csv_text("2005-01-03,10,11,10.5", header="timestamp,open,high,close"))
    assert not report.ok
    assert len(report.errors) == 1
    problem = report.errors[0]
    assert (problem.line, problem.field) == (1, None)
    assert "low" in problem.message
    assert "volume" in problem.message
    assert "open" not in problem.message.split("(")[0]


def test_duplicate_column_is_reported():
    report = parse_ohlcv_csv(csv_text(GOOD + ",1", header=HEADER + ",Close"))
    assert [(p.line, p.field) for p in report.errors] == [(1, None)]
    assert "close" in report.errors[0].message


def test_empty_file_and_header_only_are_errors():
    assert problems("") == [(1, None)]
    assert problems("\n\n") == [(1, None)]
    report = parse_ohlcv_csv(HEADER + "\n")
    assert not report.ok
    assert "no data rows" in report.errors[0].message


def test_wrong_field_count_is_reported():
    assert problems(csv_text(GOOD, "2005-01-04,10,11,9,10", GOOD.replace("03", "05") + ",7")) == [
        (3, None),
        (4, None),
    ]


def test_unparsable_timestamp():
    report = parse_ohlcv_csv(csv_text(GOOD, "03/01/2005,10,11,9,10,1", "2005-01-05,10,11,9,10,1"))
    assert [(p.line, p.field) for p in report.errors] == [(3, "timestamp")]
    assert "ISO-8601" in report.errors[0].message


@pytest.mark.parametrize(
    ("value", "message"),
    [("abc", "not a number"), ("", "empty"), ("  ", "empty"), ("nan", "NaN"), ("NaN", "NaN")],
)
def test_bad_numbers(value, message):
    report = parse_ohlcv_csv(
        csv_text(GOOD.replace("2005-01-03", "2005-01-02"), f"2005-01-03,10,{value},9,10,1")
    )
    assert [(p.line, p.field) for p in report.errors] == [(3, "high")]
    assert message in report.errors[0].message


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity"])
def test_infinite_values(value):
    report = parse_ohlcv_csv(csv_text(f"2005-01-03,10,11,9,10,{value}"))
    assert [(p.line, p.field) for p in report.errors] == [(2, "volume")]
    assert "infinite" in report.errors[0].message


def test_high_below_low():
    report = parse_ohlcv_csv(csv_text(GOOD.replace("03", "02"), "2005-01-03,10,9,11,10,1"))
    messages = {(p.line, p.field, p.message.split(" is ")[1].split(" ")[0]) for p in report.errors}
    assert (3, "high", "below") in messages
    assert any("below low" in p.message for p in report.errors)
    assert all(p.line == 3 for p in report.errors)


def test_high_below_open_or_close():
    text = csv_text("2005-01-03,12,11,9,10,1", "2005-01-04,10,11,9,11.5,1")
    report = parse_ohlcv_csv(text)
    assert [(p.line, p.field) for p in report.errors] == [(2, "high"), (3, "high")]
    assert all("max(open, close)" in p.message for p in report.errors)


def test_low_above_open_or_close():
    text = csv_text("2005-01-03,8.5,11,9,10,1", "2005-01-04,10,11,9.5,9.2,1")
    report = parse_ohlcv_csv(text)
    assert [(p.line, p.field) for p in report.errors] == [(2, "low"), (3, "low")]
    assert all("min(open, close)" in p.message for p in report.errors)


def test_non_positive_prices():
    report = parse_ohlcv_csv(csv_text("2005-01-03,0,1,0,0.5,1", "2005-01-04,-1,1,-2,0.5,1"))
    fields = [(p.line, p.field) for p in report.errors if "positive" in p.message]
    assert fields == [(2, "open"), (2, "low"), (3, "open"), (3, "low")]


def test_negative_volume_but_zero_is_fine():
    report = parse_ohlcv_csv(csv_text("2005-01-03,10,11,9,10,0", "2005-01-04,10,11,9,10,-5"))
    assert [(p.line, p.field) for p in report.errors] == [(3, "volume")]
    assert len(report.bars) == 1


def test_duplicate_timestamps_name_the_first_line():
    text = csv_text(GOOD, "2005-01-04,10,11,9,10,1", "2005-01-03T00:00:00Z,10,11,9,10,1")
    report = parse_ohlcv_csv(text)
    assert [(p.line, p.field) for p in report.errors] == [(4, "timestamp")]
    assert "duplicate" in report.errors[0].message
    assert "line 2" in report.errors[0].message


def test_same_instant_in_another_zone_is_a_duplicate():
    text = csv_text("2005-01-03T14:30:00Z,10,11,9,10,1", "2005-01-03T09:30:00-05:00,10,11,9,10,1")
    assert problems(text) == [(3, "timestamp")]


def test_unsorted_timestamps():
    text = csv_text("2005-01-05,10,11,9,10,1", GOOD, "2005-01-06,10,11,9,10,1")
    report = parse_ohlcv_csv(text)
    assert [(p.line, p.field) for p in report.errors] == [(3, "timestamp")]
    assert "earlier" in report.errors[0].message
    assert "line 2" in report.errors[0].message


def test_every_problem_on_a_row_is_reported_and_the_row_is_not_a_bar():
    report = parse_ohlcv_csv(csv_text("bad,x,11,9,nan,1", GOOD))
    assert [(p.line, p.field) for p in report.errors] == [
        (2, "timestamp"),
        (2, "open"),
        (2, "close"),
    ]
    assert [bar.timestamp for bar in report.bars] == [utc(2005, 1, 3)]


def test_unreadable_csv_is_an_error_with_its_line():
    report = parse_ohlcv_csv(csv_text(GOOD, '2005-01-04,"10"x,11,9,10,1', "2005-01-05,1,1,1,1,1"))
    assert [(p.line, p.field) for p in report.errors] == [(3, None)]
    assert report.errors[0].message.startswith("unreadable CSV")
    unterminated = parse_ohlcv_csv(csv_text(GOOD, '2005-01-04,"10,11,9,10,1'))
    assert not unterminated.ok


def test_errors_are_capped_and_the_rest_counted():
    rows = [f"2005-01-03T{i // 60:02d}:{i % 60:02d}:00,x,11,9,10,1" for i in range(250)]
    report = parse_ohlcv_csv(csv_text(*rows))
    assert report.error_count == 250
    assert len(report.errors) == MAX_REPORTED_ERRORS
    assert report.more_errors == 50
    assert report.errors[0].line == 2
    summary = report.summary(limit=5)
    assert summary.count("\n") == 5
    assert summary.endswith("... and 245 more problems")


def test_bad_timeframe_argument_raises():
    with pytest.raises(ValueError, match="timeframe"):
        parse_ohlcv_csv(csv_text(GOOD), "1x")


# --- gaps -----------------------------------------------------------------------------


def daily(*days: str) -> str:
    return csv_text(*(f"{day},10,11,9,10,1" for day in days))


def test_daily_weekend_is_expected():
    # Friday 2005-01-07 -> Monday 2005-01-10
    report = parse_ohlcv_csv(daily("2005-01-06", "2005-01-07", "2005-01-10"), "1d")
    assert report.ok
    assert len(report.gaps) == 1
    gap = report.gaps[0]
    assert (gap.start, gap.end) == (utc(2005, 1, 7), utc(2005, 1, 10))
    assert (gap.expected, gap.reason, gap.missing_bars, gap.line) == (True, "weekend", 0, 4)


def test_daily_holiday_next_to_weekend_is_expected():
    # Friday 2005-01-14 -> Tuesday 2005-01-18 (Martin Luther King day)
    report = parse_ohlcv_csv(daily("2005-01-14", "2005-01-18"), "1d")
    gap = report.gaps[0]
    assert (gap.expected, gap.reason, gap.missing_bars) == (True, "holiday", 1)


def test_daily_two_missing_weekdays_is_a_holiday_three_is_unexpected():
    two = parse_ohlcv_csv(daily("2005-01-05", "2005-01-10"), "1d").gaps  # Thu, Fri missing
    assert [(g.reason, g.missing_bars) for g in two] == [("holiday", 2)]
    three = parse_ohlcv_csv(daily("2005-01-04", "2005-01-10"), "1d").gaps  # Wed-Fri missing
    assert [(g.reason, g.expected, g.missing_bars) for g in three] == [("unexpected", False, 3)]


def test_daily_midweek_single_missing_day_is_a_holiday():
    gaps = parse_ohlcv_csv(daily("2005-07-01", "2005-07-05"), "1d").gaps  # Fri -> Tue
    assert [(g.reason, g.missing_bars) for g in gaps] == [("holiday", 1)]
    gaps = parse_ohlcv_csv(daily("2005-07-05", "2005-07-07"), "1d").gaps  # Tue -> Thu
    assert [(g.reason, g.missing_bars) for g in gaps] == [("holiday", 1)]


def test_long_daily_gap_is_unexpected_with_a_weekday_count():
    gaps = parse_ohlcv_csv(daily("2001-09-10", "2001-09-17"), "1d").gaps
    assert [(g.reason, g.missing_bars, g.expected) for g in gaps] == [("unexpected", 4, False)]
    gaps = parse_ohlcv_csv(daily("2005-01-03", "2005-02-01"), "1d").gaps
    assert gaps[0].missing_bars == 20


def test_no_gaps_without_timeframe_or_for_consecutive_days():
    assert parse_ohlcv_csv(daily("2005-01-07", "2005-01-10")).gaps == []
    assert parse_ohlcv_csv(daily("2005-01-03", "2005-01-04"), "1d").gaps == []


def test_intraday_gaps():
    def at(stamp: str) -> datetime:
        return parse_timestamp(stamp)

    overnight = classify_gap(at("2005-01-03T20:00Z"), at("2005-01-04T14:30Z"), "1h")
    assert (overnight.reason, overnight.expected) == ("overnight", True)
    weekend = classify_gap(at("2005-01-07T20:00Z"), at("2005-01-10T14:30Z"), "1h")
    assert (weekend.reason, weekend.expected) == ("weekend", True)
    holiday = classify_gap(at("2005-01-14T20:00Z"), at("2005-01-18T14:30Z"), "1h")
    assert (holiday.reason, holiday.expected) == ("holiday", True)
    hole = classify_gap(at("2005-01-03T15:00Z"), at("2005-01-03T18:00Z"), "1h")
    assert (hole.reason, hole.expected, hole.missing_bars) == ("unexpected", False, 2)
    week = classify_gap(at("2005-01-03T15:00Z"), at("2005-01-11T15:00Z"), "15m")
    assert (week.reason, week.expected) == ("unexpected", False)
    assert classify_gap(at("2005-01-03T15:00Z"), at("2005-01-03T16:00Z"), "1h") is None


def test_weekly_gaps():
    # Friday labels; one week (01-14) missing
    report = parse_ohlcv_csv(daily("2005-01-07", "2005-01-21", "2005-01-28"), "1w")
    assert [(g.reason, g.expected, g.missing_bars) for g in report.gaps] == [
        ("unexpected", False, 1)
    ]
    # A label moved by a holiday (Mon -> Tue) is not a gap.
    assert parse_ohlcv_csv(daily("2005-01-10", "2005-01-18", "2005-01-24"), "1w").gaps == []


# --- writing --------------------------------------------------------------------------


def test_format_bars_csv_is_canonical_and_round_trips():
    bars = [
        Bar(utc(2005, 1, 3), 10.0, 11.25, 9.0, 10.5, 1000.0),
        Bar(utc(2005, 1, 3, 14, 30), 3.8092, 4.2429, 3.8072, 4.1867, 12.5),
    ]
    text = format_bars_csv(bars)
    assert text.splitlines() == [
        HEADER,
        "2005-01-03T00:00:00Z,10,11.25,9,10.5,1000",
        "2005-01-03T14:30:00Z,3.8092,4.2429,3.8072,4.1867,12.5",
    ]
    assert text.endswith("\n")
    assert parse_ohlcv_csv(text).bars == bars


def test_format_converts_zoned_and_naive_times_to_utc():
    from datetime import timedelta, timezone

    eastern = timezone(timedelta(hours=-5))
    bars = [
        Bar(datetime(2005, 1, 3, 9, 30, tzinfo=eastern), 1, 1, 1, 1, 0),
        Bar(datetime(2005, 1, 3, 15, 30), 1, 1, 1, 1, 0),
    ]
    lines = format_bars_csv(bars).splitlines()
    assert lines[1].startswith("2005-01-03T14:30:00Z,")
    assert lines[2].startswith("2005-01-03T15:30:00Z,")


def test_problem_and_gap_text_and_dicts():
    report = parse_ohlcv_csv(daily("2001-09-10", "2001-09-17") + "x,1,1,1,1,1\n", "1d")
    assert str(report.errors[0]) == (
        "line 4, timestamp: timestamp 'x' is not an ISO-8601 time between years 1 and 9999 "
        "(e.g. 2005-01-03 or 2005-01-03T14:30:00Z)"
    )
    assert report.errors[0].to_dict()["line"] == 4
    gap = report.gaps[0]
    assert str(gap) == (
        "2001-09-10T00:00:00Z -> 2001-09-17T00:00:00Z (line 3): ~4 missing bars, unexpected"
    )
    assert gap.to_dict() == {
        "start": "2001-09-10T00:00:00Z",
        "end": "2001-09-17T00:00:00Z",
        "missing_bars": 4,
        "expected": False,
        "reason": "unexpected",
        "line": 3,
    }
