"""The feature matrix of a strategy: one row per base bar, one column per network input.

Column names are ``<timeframe>:<fuzzy set>.<term>`` for memberships and
``<timeframe>:<indicator>.<output>`` for raw indicator values. Every column at bar t
depends only on bars up to t: indicators are causal, memberships are pointwise and
higher timeframes are aligned only after their period closed.
"""

from __future__ import annotations

import pandas as pd

from ktrdr.compute.fuzzy.membership import fuzzify
from ktrdr.compute.indicators import column_for, compute_indicators
from ktrdr.compute.series.frames import align_to_base, load_frame, load_timeframe
from ktrdr.research.data.store import DataStore
from ktrdr.research.strategies.schema import StrategyConfig


def feature_columns(config: StrategyConfig) -> tuple[list[str], list[str]]:
    """(all feature names in order, the raw-indicator names among them)."""
    names: list[str] = []
    raw: list[str] = []
    for nn_input, timeframe in _inputs_by_timeframe(config):
        if nn_input.fuzzy_set is not None:
            terms = config.fuzzy_sets[nn_input.fuzzy_set].terms
            names += [f"{timeframe}:{nn_input.fuzzy_set}.{term}" for term in terms]
        else:
            assert nn_input.indicator is not None
            column = f"{timeframe}:{column_for(nn_input.indicator, config.indicators)}"
            names.append(column)
            raw.append(column)
    return names, raw


def _inputs_by_timeframe(config: StrategyConfig):  # type: ignore[no-untyped-def]
    all_timeframes = config.training_data.timeframes
    for timeframe in all_timeframes:
        for nn_input in config.nn_inputs:
            if timeframe in (nn_input.timeframes or all_timeframes):
                yield nn_input, timeframe


def _timeframe_features(
    config: StrategyConfig, frame: pd.DataFrame, timeframe: str
) -> pd.DataFrame:
    indicators = compute_indicators(config.indicators, frame)
    columns: dict[str, pd.Series] = {}
    for nn_input, tf in _inputs_by_timeframe(config):
        if tf != timeframe:
            continue
        if nn_input.fuzzy_set is not None:
            fuzzy_set = config.fuzzy_sets[nn_input.fuzzy_set]
            values = indicators[column_for(fuzzy_set.indicator, config.indicators)]
            memberships = fuzzify(nn_input.fuzzy_set, fuzzy_set, values)
            for name in memberships.columns:
                columns[f"{timeframe}:{name}"] = memberships[name]
        else:
            assert nn_input.indicator is not None
            column = column_for(nn_input.indicator, config.indicators)
            columns[f"{timeframe}:{column}"] = indicators[column]
    return pd.DataFrame(columns, index=frame.index)


def build_features(config: StrategyConfig, frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Features on the base timeframe's index from one OHLCV frame per timeframe.

    Rows where any input is still warming up are NaN; callers drop or mask them.
    """
    base_tf = config.training_data.base_timeframe
    base_index = frames[base_tf].index
    parts = []
    for timeframe in config.training_data.timeframes:
        part = _timeframe_features(config, frames[timeframe], timeframe)
        if timeframe != base_tf:
            part = align_to_base(part, timeframe, base_index, base_tf)
        parts.append(part)
    names, _ = feature_columns(config)
    return pd.concat(parts, axis=1)[names]


def load_frames(
    config: StrategyConfig,
    store: DataStore,
    symbol: str,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> dict[str, pd.DataFrame]:
    """OHLCV frames for every timeframe of the strategy; higher ones derived when missing."""
    base_tf = config.training_data.base_timeframe
    frames = {base_tf: load_frame(store, symbol, base_tf, start, end)}
    for timeframe in config.training_data.timeframes[1:]:
        frames[timeframe] = load_timeframe(store, symbol, timeframe, base_tf, start, end)
    return frames
