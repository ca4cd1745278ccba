import numpy as np
import pandas as pd
import pytest

from ktrdr.compute.series import align_to_base, bar_close_times, load_frame, resample_ohlcv
from ktrdr.research.data.store import DataStore


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory) -> "pd.DataFrame":
    return load_frame(DataStore(tmp_path_factory.mktemp("empty")), "AAPL", "1d")


def weekly_features(weekly: "pd.DataFrame") -> "pd.DataFrame":
    """Typical features computed on weekly bars; every one is causal on weekly data."""
    close = weekly["close"]
    return pd.DataFrame(
        {
            "close": close,
            "sma4": close.rolling(4).mean(),
            "ema5": close.ewm(span=5, adjust=False).mean(),
            "ret": close.pct_change(),
            "range": weekly["high"] - weekly["low"],
            "volume": weekly["volume"],
        }
    )


def aligned_weekly(daily: "pd.DataFrame") -> "pd.DataFrame":
    return align_to_base(weekly_features(resample_ohlcv(daily, "1w")), "1w", daily.index, "1d")


def test_friday_sees_its_week_thursday_the_week_before(daily):
    aligned = aligned_weekly(daily)
    weekly = resample_ohlcv(daily, "1w")
    friday = pd.Timestamp("2005-01-07", tz="UTC")
    thursday = pd.Timestamp("2005-01-06", tz="UTC")
    monday = pd.Timestamp("2005-01-10", tz="UTC")
    assert aligned.loc[friday, "close"] == weekly.loc[friday, "close"] == daily.loc[friday, "close"]
    previous = pd.Timestamp("2004-12-31", tz="UTC")
    assert aligned.loc[thursday, "close"] == weekly.loc[previous, "close"]
    assert aligned.loc[monday, "close"] == weekly.loc[friday, "close"]


def test_rows_before_the_first_closed_higher_bar_are_nan(daily):
    aligned = aligned_weekly(daily)
    # AAPL starts Wednesday 2000-03-01; the first week closes with Friday 2000-03-03.
    assert aligned.loc[:"2000-03-02", "close"].isna().all()
    assert aligned.loc["2000-03-03", "close"] == daily.loc["2000-03-03", "close"]
    assert aligned.index.equals(daily.index)
    assert list(aligned.columns) == ["close", "sma4", "ema5", "ret", "range", "volume"]


def lookahead_violations(daily: "pd.DataFrame", align, steps: range) -> int:
    full = align(daily)
    bad = 0
    for t in steps:
        truncated = align(daily.iloc[: t + 1])
        left, right = truncated.iloc[t].to_numpy(), full.iloc[t].to_numpy()
        bad += not np.array_equal(left, right, equal_nan=True)
    return bad


def test_removing_future_bars_never_changes_an_aligned_value(daily):
    # Every day of the first 120 bars, then every 7th bar across the whole series (all
    # weekdays, holiday weeks, the 9/11 closure and the last bar).
    steps = [*range(0, 120), *range(120, len(daily), 7), len(daily) - 1]
    assert lookahead_violations(daily, aligned_weekly, steps) == 0


def test_the_invariance_check_catches_a_leaky_alignment(daily):
    # Week-start labels forward-filled by label: Monday already sees that week's close.
    def leaky(frame: "pd.DataFrame") -> "pd.DataFrame":
        weekly = weekly_features(resample_ohlcv(frame, "1w"))
        weekly.index = weekly.index - pd.Timedelta(days=4)
        return weekly.reindex(frame.index, method="ffill")

    assert lookahead_violations(daily, leaky, range(0, 120)) > 0


def test_intraday_base_with_daily_and_four_hour_features():
    index = pd.DatetimeIndex(
        [
            day + pd.Timedelta(hours=h)
            for day in pd.date_range("2005-01-03", periods=15, freq="B", tz="UTC")
            for h in range(14, 21)
        ],
        name="timestamp",
    )
    rng = np.random.default_rng(7)
    close = 100 + rng.normal(size=len(index)).cumsum()
    hourly = pd.DataFrame(
        {
            "open": close - 0.1,
            "high": close + 1,
            "low": close - 1,
            "close": close,
            "volume": rng.integers(1, 100, size=len(index)).astype(float),
        },
        index=index,
    )
    for higher_tf in ("4h", "1d", "1w"):

        def align(frame, tf=higher_tf):
            higher = resample_ohlcv(frame, tf)
            features = pd.DataFrame(
                {"close": higher["close"], "sma": higher["close"].rolling(2).mean()}
            )
            return align_to_base(features, tf, frame.index, "1h")

        assert lookahead_violations(hourly, align, range(len(hourly))) == 0, higher_tf
    daily = align_to_base(resample_ohlcv(hourly, "1d"), "1d", hourly.index, "1h")
    # The 20:00 bar closes at 21:00 and still does not see its own day (closing at 24:00).
    assert pd.isna(daily.loc["2005-01-03T20:00Z", "close"])
    assert daily.loc["2005-01-04T14:00Z", "close"] == hourly.loc["2005-01-03T20:00Z", "close"]


def test_weekly_close_time_does_not_depend_on_the_label_day():
    labels = pd.DatetimeIndex(
        ["2005-01-03", "2005-01-05", "2005-01-07", "2005-01-08", "2005-01-09"], tz="UTC"
    )
    closes = bar_close_times(labels, "1w")
    assert [c.date().isoformat() for c in closes] == [
        "2005-01-08",
        "2005-01-08",
        "2005-01-08",
        "2005-01-15",  # Saturday belongs to the week ending next Friday
        "2005-01-15",
    ]
    hours = bar_close_times(pd.DatetimeIndex(["2005-01-03T14:00Z"]), "4h")
    assert hours[0] == pd.Timestamp("2005-01-03T18:00Z")


def test_monday_labelled_weekly_frame_is_not_seen_before_friday_close():
    weekly = pd.DataFrame(
        {"v": [1.0, 2.0]}, index=pd.DatetimeIndex(["2005-01-03", "2005-01-10"], tz="UTC")
    )
    base = pd.date_range("2005-01-03", "2005-01-14", freq="B", tz="UTC")
    aligned = align_to_base(weekly, "1w", base, "1d")
    assert aligned["v"].isna().sum() == 4  # Mon-Thu of the first week
    assert aligned.loc["2005-01-07", "v"] == 1.0
    assert aligned.loc["2005-01-13", "v"] == 1.0
    assert aligned.loc["2005-01-14", "v"] == 2.0


def test_naive_indexes_are_utc_and_any_columns_are_carried():
    weekly = pd.DataFrame(
        {"flag": [1, 2], "name": ["a", "b"]},
        index=pd.DatetimeIndex(["2005-01-07", "2005-01-14"]),
    )
    base = pd.DatetimeIndex(pd.date_range("2005-01-06", "2005-01-14", freq="B"), name="when")
    aligned = align_to_base(weekly, "1w", base, "1d")
    assert str(aligned.index.tz) == "UTC"
    assert aligned.index.name == "when"
    assert pd.isna(aligned["name"].iloc[0])
    assert pd.isna(aligned["flag"].iloc[0])
    assert aligned["name"].tolist()[1:] == ["a", "a", "a", "a", "a", "b"]
    assert aligned["flag"].iloc[1:].tolist() == [1, 1, 1, 1, 1, 2]


def test_unsorted_higher_frame_is_sorted_first(daily):
    weekly = resample_ohlcv(daily.iloc[:40], "1w")
    expected = align_to_base(weekly, "1w", daily.index[:40], "1d")
    shuffled = align_to_base(weekly.iloc[::-1], "1w", daily.index[:40], "1d")
    pd.testing.assert_frame_equal(shuffled, expected)
