"""Purged splits: no training or validation target reads a bar of a later split.

The proof perturbs every bar from a later split's first bar on and checks that the
earlier splits' targets (and their row counts) do not move, for both label kinds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from ktrdr.compute.features.dataset import TrainingDataset, build_dataset, purged_bounds
from ktrdr.compute.features.labels import label_horizon, make_labels
from ktrdr.core.errors import InvalidInputError
from ktrdr.research.data.store import DEFAULT_SAMPLE_DIR, DataStore
from ktrdr.research.strategies import load_strategy
from ktrdr.research.strategies.schema import LabelsConfig, StrategyConfig
from tests.conftest import STRATEGIES_DIR

SYMBOL = "AAPL"
START, END = "2010-01-01", "2014-12-31"


def strategy(source: str, lookahead: int = 10, embargo: int = 0) -> StrategyConfig:
    raw: dict[str, Any] = load_strategy("rsi_macd_trend", STRATEGIES_DIR).to_yaml_dict()
    raw["training"]["labels"] = {"source": source, "threshold": 0.03, "lookahead": lookahead}
    raw["training"]["data_split"]["embargo_bars"] = embargo
    raw["training_data"]["symbols"] = [SYMBOL]
    return StrategyConfig.model_validate(raw)


def bars() -> pd.DataFrame:
    return pd.read_csv(DEFAULT_SAMPLE_DIR / f"{SYMBOL}_1d.csv", parse_dates=["timestamp"])


def perturbed_store(tmp_path: Path, from_bar: str) -> DataStore:
    """The sample series with every bar at or after ``from_bar`` scaled at random."""
    frame = bars()
    later = frame["timestamp"] >= pd.Timestamp(from_bar)
    factors = np.exp(np.random.default_rng(7).normal(0.0, 0.08, size=int(later.sum())))
    for column in ("open", "high", "low", "close"):  # same factor per bar: still valid OHLC
        frame.loc[later, column] = (frame.loc[later, column] * factors).round(4)
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    data_dir = tmp_path / "perturbed"
    data_dir.mkdir(exist_ok=True)
    frame.to_csv(data_dir / f"{SYMBOL}_1d.csv", index=False)
    return DataStore(data_dir)


def dataset(config: StrategyConfig, store: DataStore) -> TrainingDataset:
    return build_dataset(config, store, start=START, end=END)


@pytest.mark.parametrize("source", ["zigzag", "forward_return"])
@pytest.mark.parametrize(("earlier", "later"), [("train", "validation"), ("validation", "test")])
def test_targets_ignore_every_bar_of_a_later_split(
    tmp_path: Path, source: str, earlier: str, later: str
) -> None:
    config = strategy(source)
    original = dataset(config, DataStore(tmp_path / "empty"))
    boundary = original.purge["split_starts"][SYMBOL][later]
    changed = dataset(config, perturbed_store(tmp_path, boundary))
    assert changed.purge["split_starts"][SYMBOL][later] == boundary  # same split points

    kept = ["train"] if earlier == "train" else ["train", "validation"]
    for name in kept:
        np.testing.assert_array_equal(
            changed.splits[name].labels, original.splits[name].labels, err_msg=name
        )
        assert changed.ranges[SYMBOL][name] == original.ranges[SYMBOL][name]
    # Not vacuous: the perturbation does move the later split's targets, and without the
    # purge the last `horizon` rows before the boundary would have changed too.
    assert not np.array_equal(changed.splits["test"].labels, original.splits["test"].labels)
    close_before = bars().set_index("timestamp")["close"].loc[START:END].to_numpy()
    close_after = (
        pd.read_csv(tmp_path / "perturbed" / f"{SYMBOL}_1d.csv", parse_dates=["timestamp"])
        .set_index("timestamp")["close"]
        .loc[START:END]
        .to_numpy()
    )
    index = bars().set_index("timestamp").loc[START:END].index
    at = int(index.searchsorted(pd.Timestamp(boundary)))
    horizon = label_horizon(config.training.labels)
    unpurged_before = make_labels(close_before, config.training.labels)[at - horizon : at]
    unpurged_after = make_labels(close_after, config.training.labels)[at - horizon : at]
    assert not np.array_equal(unpurged_before, unpurged_after)


@pytest.mark.parametrize("source", ["zigzag", "forward_return"])
def test_the_purge_drops_exactly_the_rows_whose_label_reaches_the_next_split(
    tmp_path: Path, source: str
) -> None:
    config = strategy(source, lookahead=7)
    data = dataset(config, DataStore(tmp_path))
    purge = data.describe()["purge"]
    assert purge["label_horizon"] == 7
    # Rows are contiguous bars after the warm-up: each boundary costs `lookahead` rows,
    # and the end of the data leaves the last `lookahead` bars unlabelled.
    assert purge["purged"] == {"train": 7, "validation": 7, "test": 7}
    assert purge["embargoed"] == {"validation": 0, "test": 0}
    index = bars().set_index("timestamp").loc[START:END].index
    train_last = index.get_loc(pd.Timestamp(data.ranges[SYMBOL]["train"][1]))
    validation_first = index.get_loc(pd.Timestamp(purge["split_starts"][SYMBOL]["validation"]))
    assert train_last + 7 == validation_first - 1  # its label's last bar is just before


def test_the_embargo_removes_exactly_its_rows_at_the_start_of_each_later_split(
    tmp_path: Path,
) -> None:
    store = DataStore(tmp_path)
    plain = dataset(strategy("zigzag"), store)
    embargoed = dataset(strategy("zigzag", embargo=5), store)
    assert embargoed.purge["embargoed"] == {"validation": 5, "test": 5}
    assert embargoed.purge["purged"] == plain.purge["purged"]
    rows, plain_rows = embargoed.describe()["rows"], plain.describe()["rows"]
    assert rows == {
        "train": plain_rows["train"],
        "validation": plain_rows["validation"] - 5,
        "test": plain_rows["test"] - 5,
    }
    for name in ("validation", "test"):
        np.testing.assert_array_equal(embargoed.splits[name].labels, plain.splits[name].labels[5:])
        np.testing.assert_array_equal(
            embargoed.splits[name].features, plain.splits[name].features[5:]
        )
    np.testing.assert_array_equal(embargoed.splits["train"].labels, plain.splits["train"].labels)


def test_purged_bounds_follow_bar_positions_across_gaps() -> None:
    # Usable rows at bars 0..9 and 20..29 (a gap where features were missing).
    positions = np.r_[np.arange(10), np.arange(20, 30)]
    bounds, purged, embargoed = purged_bounds(positions, 8, 14, horizon=3, embargo=1)
    # Validation starts at row 8 (bar 8): train keeps bars 0..4 (4 + 3 < 8).
    assert bounds["train"] == (0, 5)
    assert purged["train"] == 3
    # Test starts at row 14 (bar 24); validation rows 9.. (after 1 embargoed) are bars
    # 9, 20, 21, 22, 23: kept while bar + 3 < 24, i.e. 9 and 20.
    assert bounds["validation"] == (9, 11)
    assert purged["validation"] == 3
    assert bounds["test"] == (15, 20)
    assert embargoed == {"validation": 1, "test": 1}


def test_the_embargo_is_validated() -> None:
    raw: dict[str, Any] = load_strategy("rsi_macd_trend", STRATEGIES_DIR).to_yaml_dict()
    for bad in (-1, 10_001, 1.5):
        raw["training"]["data_split"]["embargo_bars"] = bad
        with pytest.raises(ValidationError, match="embargo_bars"):
            StrategyConfig.model_validate(raw)
    assert LabelsConfig(source="forward_return").source == "forward_return"
    with pytest.raises(ValidationError):
        LabelsConfig(source="tomorrow")  # type: ignore[arg-type]


def test_a_split_emptied_by_the_purge_is_refused_with_the_reason(tmp_path: Path) -> None:
    # A 500-bar horizon leaves no training row whose label ends before validation.
    with pytest.raises(InvalidInputError, match=r"the train split is empty after purging \d+"):
        dataset(strategy("zigzag", lookahead=500), DataStore(tmp_path))
