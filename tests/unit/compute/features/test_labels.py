from __future__ import annotations

import numpy as np

from ktrdr.compute.features.labels import (
    BUY,
    HOLD,
    SELL,
    UNLABELLED,
    forward_return_labels,
    zigzag_labels,
)


def test_zigzag_first_threshold_crossing_wins() -> None:
    # t=0: +5% at t+1 (t+2 is only -1%) -> BUY
    # t=1: 105 -> 99 is -5.7% at t+1 -> SELL
    # t=2: 99 -> 100 (+1%), 100.5 (+1.5%): nothing crosses 2% within 2 bars -> HOLD
    close = np.array([100.0, 105.0, 99.0, 100.0, 100.5, 101.0])
    labels = zigzag_labels(close, threshold=0.02, lookahead=2)
    assert labels.tolist() == [BUY, SELL, HOLD, HOLD, UNLABELLED, UNLABELLED]


def test_zigzag_down_first() -> None:
    close = np.array([100.0, 97.0, 110.0, 110.0])
    assert zigzag_labels(close, 0.02, 2)[0] == SELL


def test_forward_return_labels() -> None:
    close = np.array([100.0, 100.0, 103.0, 97.0, 100.0])
    # t=0 -> t=2: +3% BUY; t=1 -> t=3: -3% SELL; t=2 -> t=4: -2.9% SELL
    assert forward_return_labels(close, 0.025, 2).tolist() == [
        BUY,
        SELL,
        SELL,
        UNLABELLED,
        UNLABELLED,
    ]


def test_series_shorter_than_lookahead_is_unlabelled() -> None:
    assert (zigzag_labels(np.array([1.0, 2.0]), 0.02, 5) == UNLABELLED).all()
    assert (forward_return_labels(np.array([1.0, 2.0]), 0.02, 5) == UNLABELLED).all()
