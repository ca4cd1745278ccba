import numpy as np
import pandas as pd

from ktrdr.compute.series import OHLCV_COLUMNS, bars_to_frame, resample_ohlcv


def frame(rows: list[tuple[str, float, float, float, float, float]]) -> "pd.DataFrame":
    index = pd.DatetimeIndex([pd.Timestamp(r[0], tz="UTC") for r in rows], name="timestamp")
    return pd.DataFrame([r[1:] for r in rows], index=index, columns=OHLCV_COLUMNS, dtype=float)


# Mon 2005-01-03 .. Fri 2005-01-07, then Mon-Wed of the next week.
WEEK = [
    ("2005-01-03", 10, 12, 9, 11, 100),
    ("2005-01-04", 11, 15, 10, 14, 200),
    ("2005-01-05", 14, 14, 8, 9, 300),
    ("2005-01-06", 9, 10, 8.5, 10, 400),
    ("2005-01-07", 10, 11, 9.5, 10.5, 500),
    ("2005-01-10", 10.5, 13, 10, 12, 10),
    ("2005-01-11", 12, 12.5, 11, 11.5, 20),
    ("2005-01-12", 11.5, 16, 11.5, 15, 30),
]


def test_hand_built_week():
    weekly = resample_ohlcv(frame(WEEK), "1w")
    expected = frame(
        [
            ("2005-01-07", 10, 15, 8, 10.5, 1500),
            ("2005-01-14", 10.5, 16, 10, 15, 60),  # the partial week is labelled by its Friday
        ]
    )
    pd.testing.assert_frame_equal(weekly, expected, check_freq=False)
    assert str(weekly.index.tz) == "UTC"
    assert weekly.index.name == "timestamp"
    assert (weekly.dtypes == np.float64).all()


def test_empty_weeks_are_dropped_and_a_holiday_friday_keeps_the_friday_label():
    rows = [
        ("2005-03-21", 1, 2, 1, 2, 1),
        ("2005-03-24", 2, 3, 1, 2, 1),  # Thursday; Good Friday 03-25 closed
        ("2005-04-05", 2, 4, 2, 3, 1),  # the week ending 04-01 has no bars
    ]
    weekly = resample_ohlcv(frame(rows), "1w")
    assert [d.date().isoformat() for d in weekly.index] == ["2005-03-25", "2005-04-08"]
    assert weekly["close"].tolist() == [2.0, 3.0]


def test_matches_pandas_w_fri_on_daily_bars():
    daily = frame(WEEK)
    reference = (
        daily.resample("W-FRI")
        .agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
        .dropna()
    )
    pd.testing.assert_frame_equal(resample_ohlcv(daily, "1w"), reference, check_freq=False)


def test_intraday_friday_bars_stay_in_their_week():
    rows = [
        ("2005-01-06T15:00Z", 1, 2, 1, 2, 1),
        ("2005-01-07T15:00Z", 2, 5, 2, 4, 1),  # Friday afternoon
        ("2005-01-07T20:00Z", 4, 4, 3, 3, 1),
        ("2005-01-10T15:00Z", 3, 3, 2, 2, 1),  # next Monday
    ]
    weekly = resample_ohlcv(frame(rows), "1w")
    assert [d.isoformat() for d in weekly.index] == [
        "2005-01-07T00:00:00+00:00",
        "2005-01-14T00:00:00+00:00",
    ]
    assert weekly.iloc[0].tolist() == [1, 5, 1, 3, 3]


def test_hourly_to_four_hourly_and_daily():
    rows = [(f"2005-01-03T{h:02d}:00Z", h, h + 1, h - 0.5, h + 0.5, 1) for h in range(13, 21)]
    four = resample_ohlcv(frame(rows), "4h")
    assert [d.hour for d in four.index] == [12, 16, 20]
    assert four["open"].tolist() == [13, 16, 20]
    assert four["close"].tolist() == [15.5, 19.5, 20.5]
    assert four["high"].tolist() == [16, 20, 21]
    assert four["low"].tolist() == [12.5, 15.5, 19.5]
    assert four["volume"].tolist() == [3, 4, 1]
    day = resample_ohlcv(frame(rows), "1d")
    assert day.iloc[0].tolist() == [13, 21, 12.5, 20.5, 8]
    assert day.index[0] == pd.Timestamp("2005-01-03", tz="UTC")


def test_unsorted_input_and_extra_columns():
    daily = frame(WEEK).iloc[::-1]
    daily["extra"] = 1.0
    weekly = resample_ohlcv(daily, "1w")
    assert list(weekly.columns) == OHLCV_COLUMNS
    assert weekly["open"].tolist() == [10, 10.5]


def test_two_week_periods_end_on_every_second_friday():
    daily = pd.concat([frame(WEEK), frame([("2005-01-19", 1, 1, 1, 1, 1)])])
    two = resample_ohlcv(daily, "2w")
    assert all(d.weekday() == 4 for d in two.index)
    assert two["volume"].sum() == daily["volume"].sum()
    assert (two.index.to_series().diff().dropna() == pd.Timedelta(weeks=2)).all()


def test_bars_to_frame_empty():
    empty = bars_to_frame([])
    assert list(empty.columns) == OHLCV_COLUMNS
    assert len(empty) == 0
    assert resample_ohlcv(empty, "1w").empty
