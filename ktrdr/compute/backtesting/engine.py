"""Vectorised bar backtest: signals at a bar's close, fills at the next bar's open.

Only bars with an actionable signal go through a Python loop (the position state
machine); holdings, cash and the equity curve are then rebuilt for every bar with
numpy, so cost grows with the number of signals rather than the number of bars.

Accounting, with ``q`` the signed units held (> 0 long, < 0 short):

* a fill moves ``q * fill`` out of cash (a short sale brings its proceeds in) and
  charges ``commission * |q * fill|``;
* buys fill at ``open * (1 + slippage)``, sells at ``open * (1 - slippage)``;
* equity at a bar close is ``cash + q * close``;
* entries are sized as ``position_size * equity_at_signal_close / fill``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ktrdr.compute.backtesting.config import BacktestConfig
from ktrdr.compute.backtesting.metrics import compute_metrics
from ktrdr.research.strategies.schema import DecisionsConfig

BUY, HOLD, SELL = 1, 0, -1


@dataclass(frozen=True)
class Trade:
    """One closed position. ``pnl`` is net of both commissions; ``return_pct`` is
    ``pnl`` over the entry notional (``units * entry_price``), as a fraction.
    ``holding_bars`` counts the bar closes the position was held through."""

    side: Literal["long", "short"]
    entry_time: pd.Timestamp
    entry_price: float
    exit_time: pd.Timestamp
    exit_price: float
    units: float
    pnl: float
    return_pct: float
    holding_bars: int
    exit_reason: Literal["signal", "end_of_data"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "entry_time": self.entry_time.isoformat(),
            "entry_price": _json_float(self.entry_price),
            "exit_time": self.exit_time.isoformat(),
            "exit_price": _json_float(self.exit_price),
            "units": _json_float(self.units),
            "pnl": _json_float(self.pnl),
            "return_pct": _json_float(self.return_pct),
            "holding_bars": self.holding_bars,
            "exit_reason": self.exit_reason,
        }


@dataclass(frozen=True)
class BacktestResult:
    """Metrics, trades and the equity at every bar close.

    ``equity`` and ``timestamps`` are the arrays; ``equity_curve`` is the same data as
    a list of ``(timestamp, equity)`` pairs, built on first access because it costs far
    more than the backtest itself on long series.
    """

    metrics: dict[str, float | int]
    trades: list[Trade]
    timestamps: pd.DatetimeIndex
    equity: npt.NDArray[np.float64] = field(repr=False)
    initial_capital: float

    @cached_property
    def equity_curve(self) -> list[tuple[pd.Timestamp, float]]:
        return list(zip(self.timestamps, self.equity.tolist(), strict=True))

    @property
    def final_equity(self) -> float:
        return float(self.equity[-1])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ISO timestamps, plain floats, inf/NaN as None."""
        stamps = [t.isoformat() for t in self.timestamps]
        return {
            "start": stamps[0],
            "end": stamps[-1],
            "bars": len(stamps),
            "initial_capital": _json_float(self.initial_capital),
            "final_equity": _json_float(self.final_equity),
            "metrics": {k: json_number(v) for k, v in self.metrics.items()},
            "trades": [t.to_dict() for t in self.trades],
            "equity_curve": [
                [s, _json_float(v)] for s, v in zip(stamps, self.equity.tolist(), strict=True)
            ],
        }


def _json_float(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def json_number(value: float | int) -> float | int | None:
    """JSON-ready: ints stay ints, non-finite floats become None."""
    if isinstance(value, int | np.integer):
        return int(value)
    return _json_float(value)


@dataclass
class _Ledger:
    """What the state machine records; converted to arrays once it has finished."""

    event_bar: list[int] = field(default_factory=list)
    event_cash: list[float] = field(default_factory=list)
    event_units: list[float] = field(default_factory=list)
    entry_bar: list[int] = field(default_factory=list)
    entry_price: list[float] = field(default_factory=list)
    entry_units: list[float] = field(default_factory=list)  # signed
    exit_bar: list[int] = field(default_factory=list)
    exit_price: list[float] = field(default_factory=list)


def run_backtest(
    timestamps: pd.DatetimeIndex | npt.NDArray[np.datetime64],
    open_: npt.ArrayLike,
    close: npt.ArrayLike,
    signals: npt.ArrayLike,
    confidences: npt.ArrayLike,
    decisions: DecisionsConfig,
    config: BacktestConfig,
) -> BacktestResult:
    """Replay ``signals`` (1 BUY, 0 HOLD, -1 SELL, decided at each bar's close).

    A signal whose confidence is below ``decisions.confidence_threshold`` is a HOLD.
    The signal of bar ``t`` fills at bar ``t+1``'s open; one on the last bar cannot
    fill. With ``position_awareness`` a BUY opens a long from flat or covers a short,
    a SELL closes a long or (if ``allow_short_from_flat``) opens a short from flat.
    Without it the signal is the target position: BUY = long, SELL = short (flat if
    shorting is not allowed), reversing at one open when needed. A position still open
    at the end is closed at the last close (slippage and commission included).
    """
    index = _as_index(timestamps)
    n = len(index)
    opens = _prices("open_", open_, n)
    closes = _prices("close", close, n)
    sig = _signals(signals, n)
    conf = np.asarray(confidences, dtype=np.float64)
    if conf.shape != (n,):
        raise ValueError(f"confidences must have shape ({n},), got {conf.shape}")

    # NaN confidence compares False, so it also becomes a HOLD.
    active = sig[:-1] != HOLD
    active &= conf[:-1] >= decisions.confidence_threshold
    bars = np.flatnonzero(active)

    ledger = _Ledger()
    cash, units = _run_state_machine(
        bars.tolist(),
        sig[bars].tolist(),
        opens[bars + 1].tolist(),
        closes[bars].tolist(),
        decisions,
        config,
        ledger,
    )
    equity = _equity_curve(ledger, closes, config.initial_capital)

    forced = units != 0.0
    if forced:
        # Close whatever is left at the final close so every trade is realised.
        last = float(closes[-1])
        fill = last * (1.0 - config.slippage) if units > 0 else last * (1.0 + config.slippage)
        cash += units * fill - config.commission * abs(units * fill)
        ledger.exit_bar.append(n - 1)
        ledger.exit_price.append(fill)
        equity[-1] = cash

    trades, pnls, holding = _trades(ledger, index, forced, config.commission)
    metrics = compute_metrics(equity, pnls, holding, config.bars_per_year, config.risk_free_rate)
    return BacktestResult(
        metrics=metrics,
        trades=trades,
        timestamps=index,
        equity=equity,
        initial_capital=config.initial_capital,
    )


def _run_state_machine(
    bars: list[int],
    sigs: list[int],
    fill_opens: list[float],
    signal_closes: list[float],
    decisions: DecisionsConfig,
    config: BacktestConfig,
    ledger: _Ledger,
) -> tuple[float, float]:
    """Walk the actionable signals; return the final cash and signed units."""
    aware = decisions.position_awareness
    allow_short = decisions.allow_short_from_flat
    buy_slip = 1.0 + config.slippage
    sell_slip = 1.0 - config.slippage
    commission = config.commission
    size = config.position_size
    cash = config.initial_capital
    units = 0.0  # signed: > 0 long, < 0 short

    for t, s, o, c in zip(bars, sigs, fill_opens, signal_closes, strict=True):
        pos = (units > 0) - (units < 0)
        if aware:
            if s == BUY:
                close_now, open_dir = pos < 0, 1 if pos == 0 else 0
            else:
                close_now, open_dir = pos > 0, -1 if pos == 0 and allow_short else 0
        else:
            target = BUY if s == BUY else (SELL if allow_short else HOLD)
            if target == pos:
                continue
            close_now, open_dir = pos != 0, target
        if not close_now and not open_dir:
            continue

        # Sizing uses equity at the signal bar's close, before anything fills.
        equity_then = cash + units * c
        if close_now:
            fill = o * (buy_slip if units < 0 else sell_slip)
            cash += units * fill - commission * abs(units * fill)
            units = 0.0
            ledger.exit_bar.append(t + 1)
            ledger.exit_price.append(fill)
        if open_dir and equity_then > 0:
            fill = o * (buy_slip if open_dir > 0 else sell_slip)
            units = open_dir * size * equity_then / fill
            cash -= units * fill + commission * abs(units * fill)
            ledger.entry_bar.append(t + 1)
            ledger.entry_price.append(fill)
            ledger.entry_units.append(units)
        ledger.event_bar.append(t + 1)
        ledger.event_cash.append(cash)
        ledger.event_units.append(units)
    return cash, units


def _equity_curve(
    ledger: _Ledger, closes: npt.NDArray[np.float64], initial_capital: float
) -> npt.NDArray[np.float64]:
    """Mark cash + units to every close; both only change at event bars."""
    n = closes.size
    starts = np.array([0, *ledger.event_bar], dtype=np.int64)
    lengths = np.diff(starts, append=n)  # event bars are unique and increasing
    cash = np.repeat(np.array([initial_capital, *ledger.event_cash]), lengths)
    units = np.repeat(np.array([0.0, *ledger.event_units]), lengths)
    return cash + units * closes


def _trades(
    ledger: _Ledger, index: pd.DatetimeIndex, forced: bool, commission: float
) -> tuple[list[Trade], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Pair entries with exits (every entry has one by now) and compute pnl.

    ``forced``: the last trade was closed at the final close (end of data).
    """
    q = np.array(ledger.entry_units, dtype=np.float64)
    entry_px = np.array(ledger.entry_price, dtype=np.float64)
    exit_px = np.array(ledger.exit_price, dtype=np.float64)
    entry_bar = np.array(ledger.entry_bar, dtype=np.int64)
    exit_bar = np.array(ledger.exit_bar, dtype=np.int64)
    end_of_data = np.zeros(q.size, dtype=bool)
    if forced:
        end_of_data[-1] = True
    # A signal exit fills at an open, so its bar is not held; a forced one at the close.
    holding = exit_bar - entry_bar + end_of_data
    size = np.abs(q)
    fees = commission * size * (entry_px + exit_px)
    pnls = q * (exit_px - entry_px) - fees
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = pnls / (size * entry_px)

    entry_times = index[entry_bar]
    exit_times = index[exit_bar]
    trades = [
        Trade(
            side="long" if qi > 0 else "short",
            entry_time=et,
            entry_price=ep,
            exit_time=xt,
            exit_price=xp,
            units=abs(qi),
            pnl=p,
            return_pct=r,
            holding_bars=h,
            exit_reason="end_of_data" if eod else "signal",
        )
        for qi, et, ep, xt, xp, p, r, h, eod in zip(
            q.tolist(),
            entry_times,
            entry_px.tolist(),
            exit_times,
            exit_px.tolist(),
            pnls.tolist(),
            returns.tolist(),
            holding.tolist(),
            end_of_data.tolist(),
            strict=True,
        )
    ]
    return trades, pnls, holding


def _as_index(timestamps: pd.DatetimeIndex | npt.NDArray[np.datetime64]) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(timestamps)
    if len(index) == 0:
        raise ValueError("need at least one bar")
    if not index.is_monotonic_increasing:
        raise ValueError("timestamps must be in time order (non-decreasing)")
    return index


def _prices(name: str, values: npt.ArrayLike, n: int) -> npt.NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    if not (np.isfinite(arr).all() and (arr > 0).all()):
        raise ValueError(f"{name} must be finite and positive")
    return arr


def _signals(values: npt.ArrayLike, n: int) -> npt.NDArray[np.int8]:
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValueError(f"signals must have shape ({n},), got {arr.shape}")
    if not ((arr == BUY) | (arr == HOLD) | (arr == SELL)).all():
        raise ValueError("signals must only contain 1 (BUY), 0 (HOLD) and -1 (SELL)")
    return arr.astype(np.int8, copy=False)
