"""Features at bar t must not change when every bar after t is removed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ktrdr.compute.features.matrix import build_features, feature_columns, load_frames
from ktrdr.research.data.store import DataStore
from ktrdr.research.strategies import load_strategy
from tests.conftest import STRATEGIES_DIR


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> DataStore:
    return DataStore(tmp_path_factory.mktemp("data"))  # bundled samples only


@pytest.mark.parametrize("strategy", ["rsi_macd_trend", "stoch_adx_breakout"])
def test_features_ignore_every_later_bar(store: DataStore, strategy: str) -> None:
    config = load_strategy(strategy, STRATEGIES_DIR)
    symbol = config.training_data.symbols[0]
    start = pd.Timestamp("2004-01-01", tz="UTC")
    full = build_features(config, load_frames(config, store, symbol, start))
    # Cut points on every weekday, including Fridays, where a weekly bar closes.
    cuts = full.index[300:340]
    for cut in cuts:
        truncated = build_features(config, load_frames(config, store, symbol, start, cut))
        assert truncated.index[-1] == cut
        np.testing.assert_array_equal(
            truncated.iloc[-1].to_numpy(), full.loc[cut].to_numpy(), err_msg=str(cut)
        )


def test_weekly_inputs_are_present_and_lag_the_daily_ones(store: DataStore) -> None:
    config = load_strategy("rsi_macd_trend", STRATEGIES_DIR)
    names, raw = feature_columns(config)
    assert "1w:rsi_zones.oversold" in names
    assert raw == ["1d:atr_14.percent"]
    features = build_features(config, load_frames(config, store, "AAPL"))
    weekly = features["1w:rsi_zones.neutral"].dropna()
    # A weekly value holds for the whole following week: far fewer changes than bars.
    changes = (weekly.diff() != 0).sum()
    assert changes < len(weekly) / 3


def test_sample_store_serves_the_strategies(tmp_path: Path) -> None:
    store = DataStore(tmp_path)
    for name in ("rsi_macd_trend", "stoch_adx_breakout"):
        config = load_strategy(name, STRATEGIES_DIR)
        for symbol in config.training_data.symbols:
            assert len(store.read_bars(symbol, "1d")) >= 3000
