"""Training targets. Labels look ahead by design; features never do.

Signals and labels share one encoding: SELL = -1, HOLD = 0, BUY = 1. The network's
class index is ``signal + 1`` (0 = SELL, 1 = HOLD, 2 = BUY).
"""

from __future__ import annotations

import numpy as np

from ktrdr.research.strategies.schema import LabelsConfig

SELL, HOLD, BUY = -1, 0, 1
CLASS_NAMES = ("SELL", "HOLD", "BUY")
UNLABELLED = -128  # the last `lookahead` bars: their future is not in the data


def zigzag_labels(close: np.ndarray, threshold: float, lookahead: int) -> np.ndarray:
    """BUY when, within ``lookahead`` bars, the close rises by ``threshold`` before it
    falls by ``threshold``; SELL for the mirror case; HOLD when neither move happens."""
    close = np.asarray(close, dtype=np.float64)
    n = len(close)
    never = lookahead + 1
    first_up = np.full(n, never)
    first_down = np.full(n, never)
    for k in range(min(lookahead, n - 1), 0, -1):  # descending: the earliest crossing wins
        change = np.full(n, np.nan)
        change[: n - k] = close[k:] / close[: n - k] - 1.0
        first_up = np.where(change >= threshold, k, first_up)
        first_down = np.where(change <= -threshold, k, first_down)
    labels = np.full(n, HOLD, dtype=np.int8)
    labels[first_up < first_down] = BUY
    labels[first_down < first_up] = SELL
    labels[max(n - lookahead, 0) :] = UNLABELLED
    return labels


def forward_return_labels(close: np.ndarray, threshold: float, lookahead: int) -> np.ndarray:
    """BUY / SELL when the close ``lookahead`` bars later is up / down by ``threshold``."""
    close = np.asarray(close, dtype=np.float64)
    n = len(close)
    labels = np.full(n, UNLABELLED, dtype=np.int8)
    if n > lookahead:
        change = close[lookahead:] / close[:-lookahead] - 1.0
        labels[: n - lookahead] = np.where(
            change >= threshold, BUY, np.where(change <= -threshold, SELL, HOLD)
        )
    return labels


def label_horizon(config: LabelsConfig) -> int:
    """How many bars ahead a label looks: the label at bar i reads closes i..i+horizon.

    Both kinds read exactly that far: the zigzag label scans closes i+1..i+lookahead for
    the first threshold crossing, the forward return compares close i+lookahead with
    close i. A split must not keep a row whose horizon reaches into a later split.
    """
    return config.lookahead


def make_labels(close: np.ndarray, config: LabelsConfig) -> np.ndarray:
    if config.source == "zigzag":
        return zigzag_labels(close, config.threshold, config.lookahead)
    return forward_return_labels(close, config.threshold, config.lookahead)
