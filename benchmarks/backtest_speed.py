"""Backtest engine throughput on 100,000 bars with precomputed signals.

Run: ``.venv/bin/python benchmarks/backtest_speed.py``. Prints figures, asserts nothing.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pandas as pd

from ktrdr.compute.backtesting.config import BacktestConfig
from ktrdr.compute.backtesting.engine import run_backtest
from ktrdr.research.strategies.schema import DecisionsConfig

BARS = 100_000
SIGNAL_RATE = 0.05  # share of bars with a BUY or SELL
REPEATS = 20
WARMUP = 3
SEED = 7


def make_inputs(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.concatenate(([close[0]], close[:-1])) * np.exp(rng.normal(0.0, 0.001, n))
    active = rng.random(n) < SIGNAL_RATE
    signals = np.where(active, rng.choice(np.array([-1, 1], dtype=np.int8), n), 0)
    return {
        "timestamps": pd.date_range("2010-01-01", periods=n, freq="h").values,
        "open_": open_,
        "close": close,
        "signals": signals.astype(np.int8),
        # Above the threshold, so every signal reaches the state machine.
        "confidences": rng.uniform(0.6, 1.0, n),
    }


def bench(name: str, decisions: DecisionsConfig, inputs: dict[str, np.ndarray]) -> None:
    config = BacktestConfig()
    for _ in range(WARMUP):
        result = run_backtest(**inputs, decisions=decisions, config=config)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = run_backtest(**inputs, decisions=decisions, config=config)
        times.append(time.perf_counter() - start)
    best, median = min(times), statistics.median(times)
    print(
        f"{name:<28} best {BARS / best:>12,.0f} bars/s ({best * 1e3:6.2f} ms)  "
        f"median {BARS / median:>12,.0f} bars/s ({median * 1e3:6.2f} ms)  "
        f"trades {len(result.trades):>5}"
    )


def main() -> None:
    inputs = make_inputs(BARS, SEED)
    non_hold = int(np.count_nonzero(inputs["signals"]))
    print(f"{BARS:,} bars, {non_hold:,} non-HOLD signals, {REPEATS} repeats after {WARMUP} warm-up")
    bench("aware, long only", DecisionsConfig(), inputs)
    bench("aware, shorts allowed", DecisionsConfig(allow_short_from_flat=True), inputs)
    bench(
        "target, shorts allowed",
        DecisionsConfig(position_awareness=False, allow_short_from_flat=True),
        inputs,
    )


if __name__ == "__main__":
    main()
