"""Walk-forward folds: train on a window, test on the bars right after it.

Folds are computed on bar positions, then given the dates of those bars, so a fold's
training and its out-of-sample backtest are passed to the jobs as date ranges
(``TrainingParams`` / ``BacktestParams`` start and end, both inclusive).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ktrdr.core.errors import InvalidInputError
from ktrdr.core.protocol import MAX_FOLDS, MIN_WINDOW_BARS, WalkForwardParams
from ktrdr.research.data.store import DataStore
from ktrdr.research.strategies.schema import StrategyConfig

Mode = Literal["rolling", "anchored"]


@dataclass(frozen=True)
class Fold:
    """Bar positions, first and last inclusive."""

    index: int  # 1-based
    train: tuple[int, int]
    test: tuple[int, int]


@dataclass(frozen=True)
class DatedFold:
    index: int
    train_start: datetime
    train_end: datetime
    test_start: datetime
    test_end: datetime
    train_bars: int
    test_bars: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "fold": self.index,
            "train": {
                "start": self.train_start.date().isoformat(),
                "end": self.train_end.date().isoformat(),
                "bars": self.train_bars,
            },
            "test": {
                "start": self.test_start.date().isoformat(),
                "end": self.test_end.date().isoformat(),
                "bars": self.test_bars,
            },
        }


def plan_folds(
    n_bars: int,
    *,
    folds: int | None = None,
    train_bars: int | None = None,
    test_bars: int | None = None,
    mode: Mode = "rolling",
) -> list[Fold]:
    """The folds over ``n_bars`` bars.

    By count: the bars are cut into ``folds + 1`` equal blocks; fold i tests on block
    i + 1 (the last absorbs the remainder) and trains on block i (rolling) or on blocks
    0..i (anchored). By lengths: test windows of ``test_bars`` follow one another after
    the first ``train_bars`` bars; ``folds``, if given, keeps the last that many.
    """
    if mode not in ("rolling", "anchored"):
        raise InvalidInputError(f"mode must be rolling or anchored, not {mode!r}", field="mode")
    if train_bars is None or test_bars is None:
        if folds is None:
            raise InvalidInputError("give folds, or train_bars and test_bars", field="folds")
        return _by_count(n_bars, folds, mode)
    return _by_lengths(n_bars, train_bars, test_bars, folds, mode)


def _by_count(n_bars: int, folds: int, mode: Mode) -> list[Fold]:
    if not 1 <= folds <= MAX_FOLDS:
        raise InvalidInputError(f"folds must be 1 to {MAX_FOLDS}, not {folds}", field="folds")
    block = n_bars // (folds + 1)
    if block < MIN_WINDOW_BARS:
        raise InvalidInputError(
            f"{folds} folds over {n_bars} bars leave {block} bars per window; "
            f"each needs at least {MIN_WINDOW_BARS}: use fewer folds or more data",
            field="folds",
        )
    planned = []
    for i in range(folds):
        train_first = 0 if mode == "anchored" else i * block
        test_first = (i + 1) * block
        test_last = n_bars - 1 if i == folds - 1 else test_first + block - 1
        planned.append(Fold(i + 1, (train_first, test_first - 1), (test_first, test_last)))
    return planned


def _by_lengths(
    n_bars: int, train_bars: int, test_bars: int, keep: int | None, mode: Mode
) -> list[Fold]:
    for name, value in (("train_bars", train_bars), ("test_bars", test_bars)):
        if value < MIN_WINDOW_BARS:
            raise InvalidInputError(
                f"{name} must be at least {MIN_WINDOW_BARS}, not {value}", field=name
            )
    if train_bars + test_bars > n_bars:
        raise InvalidInputError(
            f"train_bars + test_bars = {train_bars + test_bars} exceed the {n_bars} bars "
            "of the series",
            field="train_bars",
        )
    count = (n_bars - train_bars) // test_bars
    first = 0
    if keep is not None:
        if not 1 <= keep <= MAX_FOLDS:
            raise InvalidInputError(f"folds must be 1 to {MAX_FOLDS}, not {keep}", field="folds")
        first = max(0, count - keep)
    elif count > MAX_FOLDS:
        raise InvalidInputError(
            f"test windows of {test_bars} bars make {count} folds over {n_bars} bars; at most "
            f"{MAX_FOLDS}: give folds to keep the last ones, or longer windows",
            field="test_bars",
        )
    planned = []
    for k in range(first, count):
        test_first = train_bars + k * test_bars
        train_first = 0 if mode == "anchored" else test_first - train_bars
        fold = Fold(
            k - first + 1, (train_first, test_first - 1), (test_first, test_first + test_bars - 1)
        )
        planned.append(fold)
    return planned


def date_folds(timestamps: list[datetime], planned: list[Fold]) -> list[DatedFold]:
    """The folds with the dates of their first and last bars.

    Jobs take whole days, so a fold whose training would end on the day its test starts
    (intraday bars) is refused rather than leaking test bars into training.
    """
    dated = []
    for fold in planned:
        train_end, test_start = timestamps[fold.train[1]], timestamps[fold.test[0]]
        if train_end.date() >= test_start.date():
            raise InvalidInputError(
                f"fold {fold.index}: training ends on {train_end.date()}, the day its test "
                "starts; folds are cut at whole days: use longer windows",
                field="folds",
            )
        dated.append(
            DatedFold(
                index=fold.index,
                train_start=timestamps[fold.train[0]],
                train_end=train_end,
                test_start=test_start,
                test_end=timestamps[fold.test[1]],
                train_bars=fold.train[1] - fold.train[0] + 1,
                test_bars=fold.test[1] - fold.test[0] + 1,
            )
        )
    return dated


def walkforward_plan(
    config: StrategyConfig, params: WalkForwardParams, store: DataStore
) -> tuple[str, list[DatedFold]]:
    """The symbol and the dated folds of a walk-forward request over the stored bars."""
    symbol = params.symbol or config.training_data.symbols[0]
    timeframe = config.training_data.base_timeframe
    start = params.start_date or config.training_data.start_date
    end = params.end_date or config.training_data.end_date
    bars = store.read_bars(symbol, timeframe, start, end)
    timestamps = [bar.timestamp for bar in bars]
    planned = plan_folds(
        len(timestamps),
        folds=params.folds,
        train_bars=params.train_bars,
        test_bars=params.test_bars,
        mode=params.mode,
    )
    return symbol, date_folds(timestamps, planned)
