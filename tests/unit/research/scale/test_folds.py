"""Walk-forward folds: by count and by lengths, rolling and anchored, and their bounds."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from ktrdr.core.errors import InvalidInputError
from ktrdr.core.protocol import MAX_FOLDS, WalkForwardParams
from ktrdr.research.data.store import DataStore
from ktrdr.research.scale.folds import Fold, date_folds, plan_folds, walkforward_plan
from ktrdr.research.strategies import load_strategy
from tests.support.paths import STRATEGIES_DIR


def test_by_count_rolling_trains_on_the_block_before_each_test() -> None:
    folds = plan_folds(400, folds=3, mode="rolling")
    assert folds == [
        Fold(1, (0, 99), (100, 199)),
        Fold(2, (100, 199), (200, 299)),
        Fold(3, (200, 299), (300, 399)),
    ]


def test_by_count_anchored_trains_from_the_first_bar_and_the_last_test_takes_the_rest() -> None:
    folds = plan_folds(403, folds=3, mode="anchored")
    assert [f.train for f in folds] == [(0, 99), (0, 199), (0, 299)]
    assert [f.test for f in folds] == [(100, 199), (200, 299), (300, 402)]


def test_by_lengths_windows_follow_each_other_and_folds_keeps_the_last() -> None:
    rolling = plan_folds(1000, train_bars=300, test_bars=100)
    assert len(rolling) == 7
    assert rolling[0] == Fold(1, (0, 299), (300, 399))
    assert rolling[-1] == Fold(7, (600, 899), (900, 999))
    anchored = plan_folds(1000, train_bars=300, test_bars=100, mode="anchored")
    assert anchored[-1] == Fold(7, (0, 899), (900, 999))
    last_two = plan_folds(1000, train_bars=300, test_bars=100, folds=2)
    assert [f.test for f in last_two] == [(800, 899), (900, 999)]
    assert [f.index for f in last_two] == [1, 2]


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"folds": 30}, "folds", "folds must be 1 to 20"),
        ({"folds": 19, "n": 300}, "folds", "leave 15 bars per window"),
        ({"train_bars": 900, "test_bars": 200}, "train_bars", "exceed the 1000 bars"),
        ({"train_bars": 100, "test_bars": 20}, "test_bars", "make 45 folds"),
        ({"train_bars": 100, "test_bars": 5}, "test_bars", "at least 20"),
        ({}, "folds", "give folds"),
    ],
)
def test_impossible_folds_are_refused_naming_the_field(
    kwargs: dict[str, int], field: str, text: str
) -> None:
    n = kwargs.pop("n", 1000)
    with pytest.raises(InvalidInputError, match=text) as caught:
        plan_folds(n, **kwargs)
    assert caught.value.field == field


def test_no_fold_count_above_the_bound_is_possible() -> None:
    assert len(plan_folds(100_000, folds=MAX_FOLDS)) == MAX_FOLDS
    with pytest.raises(InvalidInputError):
        plan_folds(100_000, folds=MAX_FOLDS + 1)


def test_dated_folds_never_share_a_day_between_training_and_test() -> None:
    daily = [datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=i) for i in range(400)]
    dated = date_folds(daily, plan_folds(400, folds=3))
    for fold in dated:
        assert fold.train_end < fold.test_start
        assert fold.train_bars == fold.test_bars == 100
    hourly = [datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=i) for i in range(400)]
    with pytest.raises(InvalidInputError, match="whole days"):
        date_folds(hourly, plan_folds(400, folds=3))


def test_the_plan_reads_the_strategy_series(tmp_path) -> None:
    config = load_strategy(STRATEGIES_DIR / "stoch_adx_breakout.yaml")
    store = DataStore(tmp_path)  # the bundled samples
    symbol, folds = walkforward_plan(config, WalkForwardParams(folds=4), store)
    assert symbol == config.training_data.symbols[0]
    assert [f.index for f in folds] == [1, 2, 3, 4]
    for before, after in itertools.pairwise(folds):
        assert before.test_end < after.test_start
