"""Training data for a strategy: features, labels and a chronological split per symbol.

Labels look ahead (``label_horizon`` bars), so a row near the end of a split would learn
from bars of the next one. Each split keeps only rows whose label horizon ends before
the next split's first bar (the purge); the test split's last bars have no label at all
(the end of the data). ``data_split.embargo_bars`` further drops that many rows at the
start of validation and test. Both counts are in :meth:`TrainingDataset.describe`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ktrdr.compute.features.labels import UNLABELLED, label_horizon, make_labels
from ktrdr.compute.features.matrix import build_features, feature_columns, load_frames
from ktrdr.compute.features.normalisation import apply_normalisation, fit_normalisation
from ktrdr.core.errors import InvalidInputError
from ktrdr.research.data.store import DataStore
from ktrdr.research.strategies.schema import StrategyConfig

SPLITS = ("train", "validation", "test")


@dataclass
class Split:
    features: np.ndarray  # float32, rows x features
    labels: np.ndarray  # int64 class index: signal + 1

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class TrainingDataset:
    feature_names: list[str]
    normalisation: dict[str, dict[str, float]]
    splits: dict[str, Split]
    # symbol -> split -> [first, last] bar timestamp (ISO); what was used for what
    ranges: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # label_horizon, embargo_bars, and rows purged / embargoed per split (all symbols)
    purge: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "feature_names": self.feature_names,
            "rows": {name: len(split) for name, split in self.splits.items()},
            "ranges": self.ranges,
            "purge": self.purge,
        }


def _timestamp(value: Any) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value, tz="UTC")


def _split_bounds(n: int, config: StrategyConfig) -> tuple[int, int]:
    split = config.training.data_split
    train_end = int(n * split.train)
    validation_end = int(n * (split.train + split.validation))
    return train_end, validation_end


def purged_bounds(
    positions: np.ndarray, train_end: int, validation_end: int, horizon: int, embargo: int
) -> tuple[dict[str, tuple[int, int]], dict[str, int], dict[str, int]]:
    """Row bounds per split after the purge and the embargo, with what each dropped.

    ``positions`` are the usable rows' bar numbers in the loaded series (increasing).
    A row at bar p stays in its split only if p + horizon is before the next split's
    first bar; then ``embargo`` rows go from the start of validation and of test.
    """
    n = len(positions)
    starts = {"train": 0, "validation": train_end, "test": validation_end}
    ends = {"train": train_end, "validation": validation_end, "test": n}
    bounds: dict[str, tuple[int, int]] = {}
    purged: dict[str, int] = {}
    embargoed: dict[str, int] = {}
    for name, following in (("train", "validation"), ("validation", "test"), ("test", None)):
        lo, hi = starts[name], ends[name]
        if name != "train":
            embargoed[name] = min(embargo, hi - lo)
            lo += embargoed[name]
        kept_hi = hi
        if following is not None and starts[following] < n:
            first_next_bar = positions[starts[following]]
            # rows lo..kept_hi-1 whose label ends before the next split's first bar
            kept_hi = lo + int(np.searchsorted(positions[lo:hi] + horizon, first_next_bar))
        purged[name] = hi - max(kept_hi, lo)
        bounds[name] = (lo, max(kept_hi, lo))
    return bounds, purged, embargoed


def build_dataset(
    config: StrategyConfig,
    store: DataStore,
    symbols: list[str] | None = None,
    start: str | None = None,
    end: str | None = None,
) -> TrainingDataset:
    """Features and labels of every symbol, split chronologically symbol by symbol.

    The normalisation of raw indicator inputs is fitted on the training rows only.
    """
    names, raw_columns = feature_columns(config)
    data = config.training_data
    start_ts = _timestamp(start or data.start_date)
    end_ts = _timestamp(end or data.end_date)
    per_split: dict[str, list[pd.DataFrame]] = {name: [] for name in SPLITS}
    per_split_labels: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    ranges: dict[str, dict[str, list[str]]] = {}

    horizon = label_horizon(config.training.labels)
    embargo = config.training.data_split.embargo_bars
    purged_total = dict.fromkeys(SPLITS, 0)
    embargoed_total = {"validation": 0, "test": 0}
    # symbol -> the first bar of validation and of test, before the embargo: no kept row
    # of an earlier split has a label that reads it or anything after it
    split_starts: dict[str, dict[str, str]] = {}
    for symbol in symbols or data.symbols:
        frames = load_frames(config, store, symbol, start_ts, end_ts)
        base = frames[data.base_timeframe]
        features = build_features(config, frames)
        labels = make_labels(base["close"].to_numpy(), config.training.labels)
        has_features = features.notna().all(axis=1).to_numpy()
        usable = has_features & (labels != UNLABELLED)
        rows = features[usable]
        row_labels = labels[usable].astype(np.int64) + 1
        if len(rows) < 30:
            raise InvalidInputError(
                f"{symbol}: only {len(rows)} usable bars after indicator warm-up; "
                "widen the date range"
            )
        train_end, validation_end = _split_bounds(len(rows), config)
        bounds, purged, embargoed = purged_bounds(
            np.flatnonzero(usable), train_end, validation_end, horizon, embargo
        )
        split_starts[symbol] = {
            "validation": rows.index[train_end].isoformat(),
            "test": rows.index[validation_end].isoformat(),
        }
        # The end of the data: the last bars' labels would read bars that are not there.
        purged["test"] += int((has_features & (labels == UNLABELLED)).sum())
        ranges[symbol] = {}
        for name, (lo, hi) in bounds.items():
            if hi <= lo:
                raise InvalidInputError(
                    f"{symbol}: the {name} split is empty after purging {purged[name]} and "
                    f"embargoing {embargoed.get(name, 0)} rows; widen the date range or "
                    "shorten training.labels.lookahead / data_split.embargo_bars"
                )
            per_split[name].append(rows.iloc[lo:hi])
            per_split_labels[name].append(row_labels[lo:hi])
            ranges[symbol][name] = [rows.index[lo].isoformat(), rows.index[hi - 1].isoformat()]
            purged_total[name] += purged[name]
            if name in embargoed:
                embargoed_total[name] += embargoed[name]
        # The test split runs to the last bar: its final bars have no label but trade.
        ranges[symbol]["test"][1] = base.index[-1].isoformat()

    train_frame = pd.concat(per_split["train"])
    normalisation = fit_normalisation(train_frame, raw_columns)
    splits = {
        name: Split(
            features=apply_normalisation(pd.concat(per_split[name]), normalisation)[names].to_numpy(
                dtype=np.float32
            ),
            labels=np.concatenate(per_split_labels[name]),
        )
        for name in SPLITS
    }
    purge = {
        "label_horizon": horizon,
        "embargo_bars": embargo,
        "purged": purged_total,
        "embargoed": embargoed_total,
        "split_starts": split_starts,
    }
    return TrainingDataset(names, normalisation, splits, ranges, purge)


def inference_features(
    config: StrategyConfig,
    store: DataStore,
    symbol: str,
    normalisation: dict[str, dict[str, float]],
    feature_names: list[str],
    start: str | None = None,
    end: str | None = None,
    warmup_from: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(normalised features, base OHLCV) for bars in [start, end], ready to predict.

    Bars from ``warmup_from`` (default: the strategy's start date) feed the indicators,
    so that the first bar of a backtest window already has every input defined.
    """
    data = config.training_data
    frames = load_frames(
        config, store, symbol, _timestamp(warmup_from or data.start_date), _timestamp(end)
    )
    base = frames[data.base_timeframe]
    features = apply_normalisation(build_features(config, frames), normalisation)[feature_names]
    window = features.notna().all(axis=1)
    if start is not None:
        window &= features.index >= _timestamp(start)
    return features[window], base[window]
