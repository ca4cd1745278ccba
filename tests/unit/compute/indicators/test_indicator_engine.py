"""Engine structure: every catalogue entry computes, names its columns, and warms up exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from talib import abstract

from ktrdr.compute.indicators import (
    column_for,
    compute_indicator,
    compute_indicators,
    lookback,
    talib_kwargs,
    warmup_bars,
)
from ktrdr.research.indicator_catalogue import CATALOGUE
from ktrdr.research.strategies.schema import IndicatorConfig

NAMES = sorted(CATALOGUE)

# Non-default parameters, to check that each one reaches TA-Lib and moves the warm-up.
CUSTOM_PARAMS = {
    "rsi": {"period": 7},
    "sma": {"period": 5},
    "ema": {"period": 30},
    "macd": {"fast_period": 5, "slow_period": 35, "signal_period": 5},
    "bbands": {"period": 10, "std_dev": 1.5},
    "atr": {"period": 1},
    "stoch": {"k_period": 5, "k_slowing": 1, "d_period": 4},
    "adx": {"period": 9},
    "cci": {"period": 2},
    "willr": {"period": 30},
    "roc": {"period": 1},
    "mom": {"period": 25},
    "obv": {},
    "mfi": {"period": 21},
}


def _first_complete_row(frame: pd.DataFrame) -> int:
    complete = frame.notna().all(axis=1).to_numpy()
    return int(np.argmax(complete)) if complete.any() else len(frame)


def test_custom_params_cover_the_catalogue():
    assert set(CUSTOM_PARAMS) == set(CATALOGUE)


@pytest.mark.parametrize("name", NAMES)
def test_talib_mapping_matches_the_function(name):
    spec = CATALOGUE[name]
    info = abstract.Function(spec.talib_function).info
    kwargs = talib_kwargs(spec, {})
    assert set(kwargs) == set(info["parameters"])
    assert len(info["output_names"]) == len(spec.outputs)
    # The engine passes spec.inputs positionally, so their order must be TA-Lib's.
    talib_inputs = [str(n) for names in info["input_names"].values() for n in np.atleast_1d(names)]
    assert talib_inputs == list(spec.inputs)


def test_bbands_std_dev_sets_both_bands():
    kwargs = talib_kwargs(CATALOGUE["bbands"], {"std_dev": 2.5})
    assert kwargs["nbdevup"] == kwargs["nbdevdn"] == 2.5
    assert kwargs["matype"] == 0


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("params", ["default", "custom"])
def test_each_indicator_computes_its_outputs(name, params, ohlcv):
    spec = CATALOGUE[name]
    given = {} if params == "default" else CUSTOM_PARAMS[name]
    out = compute_indicator(name, given, ohlcv)

    assert list(out.columns) == list(spec.all_outputs)
    assert out.index.equals(ohlcv.index)
    assert (out.dtypes == np.float64).all()
    warmup = warmup_bars({"x": IndicatorConfig(type=name, params=given)})
    assert 0 <= warmup < len(ohlcv)
    assert np.isfinite(out.iloc[warmup:].to_numpy()).all()
    # Exact, not just an upper bound: the row before the warm-up is still incomplete.
    assert _first_complete_row(out) == warmup


def test_custom_params_change_the_result(ohlcv):
    for name, params in CUSTOM_PARAMS.items():
        if params:
            default = compute_indicator(name, {}, ohlcv)
            custom = compute_indicator(name, params, ohlcv)
            assert not default.equals(custom), name


def test_warmup_is_the_maximum_over_indicators(ohlcv):
    indicators = {
        "rsi_14": IndicatorConfig(type="rsi", params={"period": 14}),
        "macd_std": IndicatorConfig(type="macd", params={}),
        "ema_50": IndicatorConfig(type="ema", params={"period": 50}),
        "obv": IndicatorConfig(type="obv"),
    }
    assert lookback("rsi", {"period": 14}) == 14
    assert lookback("macd", {}) == 26 - 1 + 9 - 1
    assert lookback("ema", {"period": 50}) == 49
    assert lookback("obv", {}) == 0
    warmup = warmup_bars(indicators)
    assert warmup == 49
    out = compute_indicators(indicators, ohlcv)
    assert _first_complete_row(out) == warmup
    assert not out.iloc[warmup:].isna().any().any()


def test_warmup_of_nothing_is_zero():
    assert warmup_bars({}) == 0


def test_compute_indicators_names_columns_by_id(ohlcv):
    indicators = {
        "macd_std": IndicatorConfig(type="macd", params={"fast_period": 12}),
        "bb_20": IndicatorConfig(type="bbands", params={"period": 20}),
        "rsi_14": IndicatorConfig(type="rsi", params={"period": 14}),
    }
    out = compute_indicators(indicators, ohlcv)
    assert list(out.columns) == [
        "macd_std.macd",
        "macd_std.signal",
        "macd_std.hist",
        "bb_20.upper",
        "bb_20.middle",
        "bb_20.lower",
        "bb_20.percent_b",
        "bb_20.bandwidth",
        "rsi_14.value",
    ]
    rsi = compute_indicator("rsi", {"period": 14}, ohlcv)["value"]
    np.testing.assert_array_equal(out["rsi_14.value"].to_numpy(), rsi.to_numpy())


def test_compute_indicators_without_indicators(ohlcv):
    out = compute_indicators({}, ohlcv)
    assert out.empty
    assert out.index.equals(ohlcv.index)


def test_unknown_type_is_rejected(ohlcv):
    with pytest.raises(ValueError, match="unknown indicator type 'vwap'"):
        compute_indicator("vwap", {}, ohlcv)
    with pytest.raises(ValueError, match="unknown indicator type"):
        warmup_bars({"x": IndicatorConfig(type="vwap")})


def test_type_is_case_insensitive(ohlcv):
    upper = compute_indicator("RSI", {}, ohlcv)
    assert upper.equals(compute_indicator("rsi", {}, ohlcv))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": 1}, "period"),
        ({"period": 2.5}, "integer"),
        ({"length": 14}, "unknown parameter"),
        ({"period": "14"}, "number"),
    ],
)
def test_invalid_params_are_rejected(params, message, ohlcv):
    with pytest.raises(ValueError, match=message):
        compute_indicator("rsi", params, ohlcv)


def test_integral_float_params_are_accepted(ohlcv):
    a = compute_indicator("sma", {"period": 5.0}, ohlcv)
    assert a.equals(compute_indicator("sma", {"period": 5}, ohlcv))


def test_missing_columns_are_reported(ohlcv):
    with pytest.raises(ValueError, match="volume"):
        compute_indicator("obv", {}, ohlcv.drop(columns="volume"))


def test_non_float_and_strided_input_is_accepted(ohlcv):
    # TA-Lib itself rejects integer or non-contiguous arrays; the engine converts them.
    frame = ohlcv.iloc[::2].copy()
    frame["volume"] = frame["volume"].astype(np.int64)
    out = compute_indicator("mfi", {}, frame)
    assert np.isfinite(out["value"].iloc[14:]).all()
    assert np.isfinite(compute_indicator("obv", {}, frame)["value"]).all()


def test_empty_and_short_frames(ohlcv):
    empty = compute_indicator("bbands", {}, ohlcv.iloc[:0])
    assert list(empty.columns) == list(CATALOGUE["bbands"].all_outputs)
    assert len(empty) == 0
    short = compute_indicator("bbands", {}, ohlcv.iloc[:10])
    assert len(short) == 10
    assert short.isna().all().all()


class TestColumnFor:
    INDICATORS = {  # noqa: RUF012 - read-only test data
        "rsi_14": IndicatorConfig(type="rsi"),
        "macd_std": IndicatorConfig(type="macd"),
        "bb_20": IndicatorConfig(type="bbands"),
    }

    @pytest.mark.parametrize(
        ("reference", "column"),
        [
            ("rsi_14", "rsi_14.value"),
            ("rsi_14.value", "rsi_14.value"),
            ("macd_std", "macd_std.macd"),
            ("macd_std.hist", "macd_std.hist"),
            ("bb_20", "bb_20.upper"),
            ("bb_20.percent_b", "bb_20.percent_b"),
        ],
    )
    def test_maps_references_to_columns(self, reference, column):
        assert column_for(reference, self.INDICATORS) == column

    def test_columns_exist_in_the_computed_frame(self, ohlcv):
        out = compute_indicators(self.INDICATORS, ohlcv)
        for reference in ("rsi_14", "macd_std.signal", "bb_20.bandwidth"):
            assert column_for(reference, self.INDICATORS) in out.columns

    def test_unknown_indicator(self):
        with pytest.raises(ValueError, match="unknown indicator 'ema_50'"):
            column_for("ema_50", self.INDICATORS)

    def test_unknown_output(self):
        with pytest.raises(ValueError, match="no output 'percent'"):
            column_for("rsi_14.percent", self.INDICATORS)
