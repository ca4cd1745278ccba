"""Indicator values checked by hand or against independent implementations."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from ktrdr.compute.indicators import compute_indicator

NAN = np.nan


def _values(out: pd.DataFrame, column: str = "value") -> np.ndarray:
    return out[column].to_numpy()


def wilder_rsi(close: list[float], period: int) -> list[float]:
    """Wilder's RSI in plain Python: seed with simple means, then (prev * (n-1) + x) / n."""
    changes = [b - a for a, b in itertools.pairwise(close)]
    gains = [max(c, 0.0) for c in changes]
    losses = [max(-c, 0.0) for c in changes]
    out = [NAN] * len(close)
    avg_gain = sum(gains[:period]) / period
    avg_loss = sum(losses[:period]) / period
    for i in range(period, len(close)):
        if i > period:
            avg_gain = (avg_gain * (period - 1) + gains[i - 1]) / period
            avg_loss = (avg_loss * (period - 1) + losses[i - 1]) / period
        total = avg_gain + avg_loss
        out[i] = 100.0 * avg_gain / total if total else 0.0
    return out


def test_sma_on_one_to_ten(close_frame):
    out = compute_indicator("sma", {"period": 3}, close_frame(list(range(1, 11))))
    expected = [NAN, NAN, 2, 3, 4, 5, 6, 7, 8, 9]
    np.testing.assert_allclose(_values(out), expected)
    # distance = close / sma - 1: 3/2 - 1 at the first defined bar, 10/9 - 1 at the last.
    assert out["distance"].iloc[2] == pytest.approx(0.5)
    assert out["distance"].iloc[-1] == pytest.approx(10 / 9 - 1)


def test_ema_seeds_with_the_sma_then_smooths(close_frame):
    # Period 3: alpha = 2 / (3 + 1) = 0.5, seeded with mean(2, 4, 6) = 4.
    out = compute_indicator("ema", {"period": 3}, close_frame([2, 4, 6, 8, 4, 2, 6]))
    expected = [NAN, NAN, 4.0, 6.0, 5.0, 3.5, 4.75]
    np.testing.assert_allclose(_values(out), expected)
    np.testing.assert_allclose(
        out["distance"].iloc[2:], np.array([6, 8, 4, 2, 6]) / expected[2:] - 1
    )


def test_rsi_matches_wilder(ohlcv):
    close = ohlcv["close"].tolist()
    for period in (2, 14, 30):
        out = compute_indicator("rsi", {"period": period}, ohlcv)
        np.testing.assert_allclose(_values(out), wilder_rsi(close, period), rtol=1e-9)


def test_rsi_extremes(close_frame):
    rising = compute_indicator("rsi", {"period": 3}, close_frame(list(range(1, 11))))
    np.testing.assert_allclose(_values(rising)[3:], 100.0)
    falling = compute_indicator("rsi", {"period": 3}, close_frame(list(range(10, 0, -1))))
    np.testing.assert_allclose(_values(falling)[3:], 0.0)


def test_bbands_use_the_population_std(close_frame):
    out = compute_indicator("bbands", {"period": 5, "std_dev": 2.0}, close_frame([1, 2, 3, 4, 5]))
    # Window 1..5: mean 3, population variance 2 (the sample variance would be 2.5).
    last = out.iloc[-1]
    assert last["middle"] == pytest.approx(3.0)
    assert last["upper"] == pytest.approx(3.0 + 2.0 * np.sqrt(2.0))
    assert last["lower"] == pytest.approx(3.0 - 2.0 * np.sqrt(2.0))
    assert last["percent_b"] == pytest.approx((5 - last["lower"]) / (4 * np.sqrt(2.0)))
    assert last["bandwidth"] == pytest.approx(4 * np.sqrt(2.0) / 3.0)


def test_bbands_against_rolling_std(ohlcv):
    out = compute_indicator("bbands", {"period": 20, "std_dev": 1.5}, ohlcv)
    close = ohlcv["close"]
    mean = close.rolling(20).mean()
    std = close.rolling(20).std(ddof=0)
    np.testing.assert_allclose(out["middle"], mean, rtol=1e-9)
    np.testing.assert_allclose(out["upper"], mean + 1.5 * std, rtol=1e-9)
    np.testing.assert_allclose(out["lower"], mean - 1.5 * std, rtol=1e-9)


def test_bbands_derived_outputs(ohlcv):
    out = compute_indicator("bbands", {}, ohlcv)
    close = ohlcv["close"]
    width = out["upper"] - out["lower"]
    np.testing.assert_allclose(out["percent_b"], (close - out["lower"]) / width)
    np.testing.assert_allclose(out["bandwidth"], width / out["middle"])


def test_percent_b_is_nan_on_a_zero_width_band(close_frame):
    out = compute_indicator("bbands", {"period": 5}, close_frame([7.0] * 8))
    assert (out["upper"].iloc[4:] == out["lower"].iloc[4:]).all()
    assert out["percent_b"].isna().all()
    np.testing.assert_allclose(out["bandwidth"].iloc[4:], 0.0)


def test_obv_hand_case(close_frame):
    # TA-Lib seeds OBV with the first bar's volume, then adds or subtracts by direction.
    frame = close_frame([10, 11, 10.5, 10.5, 12], volume=[100, 200, 300, 400, 500])
    out = compute_indicator("obv", {}, frame)
    np.testing.assert_allclose(_values(out), [100, 300, 0, 0, 500])


def test_macd_hist_is_macd_minus_signal(ohlcv):
    out = compute_indicator("macd", {}, ohlcv)
    np.testing.assert_allclose(out["hist"], out["macd"] - out["signal"], atol=1e-12)


def test_macd_line_converges_to_the_ema_difference(ohlcv):
    # TA-Lib aligns the fast EMA's seed with the slow one, so only late bars agree exactly.
    out = compute_indicator("macd", {"fast_period": 12, "slow_period": 26}, ohlcv)
    fast = _values(compute_indicator("ema", {"period": 12}, ohlcv))
    slow = _values(compute_indicator("ema", {"period": 26}, ohlcv))
    np.testing.assert_allclose(out["macd"].iloc[-50:], (fast - slow)[-50:], atol=1e-9)


def test_atr_percent_and_true_range(ohlcv):
    out = compute_indicator("atr", {"period": 1}, ohlcv)
    high, low, close = ohlcv["high"], ohlcv["low"], ohlcv["close"]
    prev = close.shift(1)
    true_range = pd.concat([high - low, (high - prev).abs(), (low - prev).abs()], axis=1).max(
        axis=1
    )
    # With period 1 the ATR is the true range itself.
    np.testing.assert_allclose(out["value"].iloc[1:], true_range.iloc[1:], rtol=1e-12)
    np.testing.assert_allclose(out["percent"], out["value"] / close)


def test_ema_and_sma_distance(ohlcv):
    for name in ("sma", "ema"):
        out = compute_indicator(name, {"period": 10}, ohlcv)
        np.testing.assert_allclose(out["distance"], ohlcv["close"] / out["value"] - 1)


def test_mom_and_roc(close_frame):
    frame = close_frame([1, 2, 4, 7])
    np.testing.assert_allclose(
        _values(compute_indicator("mom", {"period": 2}, frame)), [NAN, NAN, 3, 5]
    )
    roc = compute_indicator("roc", {"period": 2}, frame)
    np.testing.assert_allclose(_values(roc), [NAN, NAN, 300, 250])


def test_willr_and_stoch_hand_case():
    # Range high 10, low 0 over the window; close 7.5 sits 75% up, i.e. -25 in %R.
    index = pd.date_range("2021-01-01", periods=3, freq="D")
    frame = pd.DataFrame(
        {
            "open": [5.0, 5.0, 5.0],
            "high": [6.0, 10.0, 8.0],
            "low": [0.0, 4.0, 5.0],
            "close": [5.0, 9.0, 7.5],
            "volume": [1.0, 1.0, 1.0],
        },
        index=index,
    )
    willr = compute_indicator("willr", {"period": 3}, frame)
    assert _values(willr)[-1] == pytest.approx(-25.0)
    stoch = compute_indicator("stoch", {"k_period": 3, "k_slowing": 1, "d_period": 1}, frame)
    assert stoch["k"].iloc[-1] == pytest.approx(75.0)
    assert stoch["d"].iloc[-1] == pytest.approx(75.0)


def test_stoch_d_is_the_sma_of_k(ohlcv):
    out = compute_indicator("stoch", {"k_period": 14, "k_slowing": 3, "d_period": 3}, ohlcv)
    # TA-Lib hides %K until %D is defined too, so the rolling mean starts two bars later.
    lookback = 14 - 1 + 3 - 1 + 3 - 1
    assert out["d"].first_valid_index() == out.index[lookback]
    start = lookback + 2
    np.testing.assert_allclose(
        out["d"].iloc[start:], out["k"].rolling(3).mean().iloc[start:], rtol=1e-9
    )


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("rsi", 0, 100), ("stoch", 0, 100), ("adx", 0, 100), ("mfi", 0, 100), ("willr", -100, 0)],
)
def test_bounded_oscillators_stay_in_range(name, low, high, ohlcv):
    values = compute_indicator(name, {}, ohlcv).to_numpy()
    values = values[~np.isnan(values)]
    assert values.size > 0
    assert values.min() >= low
    assert values.max() <= high
