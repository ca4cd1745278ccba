"""run_backtest on hand-computed cases, plus a check against a naive bar-by-bar loop.

The hand cases use commission = slippage = 1 % so that fills are round numbers:
a buy at open 100 fills at 101, a sell at open 100 fills at 99.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from ktrdr.compute.backtesting.config import BacktestConfig
from ktrdr.compute.backtesting.engine import BacktestResult, run_backtest
from ktrdr.compute.backtesting.metrics import METRIC_KEYS
from ktrdr.research.strategies.schema import DecisionsConfig

B, H, S = 1, 0, -1


def _run(
    open_: list[float],
    close: list[float],
    signals: list[int],
    confidences: list[float] | None = None,
    capital: float = 10_100.0,
    **decisions: object,
) -> BacktestResult:
    n = len(close)
    ts = pd.date_range("2024-01-01", periods=n, freq="D")
    return run_backtest(
        ts,
        np.array(open_, dtype=float),
        np.array(close, dtype=float),
        np.array(signals, dtype=np.int8),
        np.ones(n) if confidences is None else np.array(confidences),
        DecisionsConfig(**decisions),
        BacktestConfig(initial_capital=capital, commission=0.01, slippage=0.01),
    )


def _equity(result: BacktestResult) -> list[float]:
    return [eq for _, eq in result.equity_curve]


def test_single_long_round_trip() -> None:
    # BUY at close of bar 0 -> fills at bar 1 open 100 * 1.01 = 101
    #   units = 1.0 * 10_100 / 101 = 100; commission = 0.01 * 100 * 101 = 101
    #   cash = 10_100 - 10_100 - 101 = -101
    # SELL at close of bar 2 -> fills at bar 3 open 120 * 0.99 = 118.8
    #   proceeds = 100 * 118.8 = 11_880; commission = 118.8
    #   cash = -101 + 11_880 - 118.8 = 11_660.2
    # equity: bar 0 = 10_100 (flat); bar 1 = -101 + 100 * 105 = 10_399;
    #         bar 2 = -101 + 100 * 115 = 11_399; bar 3 = 11_660.2 (flat)
    # pnl = 100 * (118.8 - 101) - 101 - 118.8 = 1_560.2 = 11_660.2 - 10_100
    r = _run([100, 100, 110, 120], [100, 105, 115, 120], [B, H, S, H])
    assert len(r.trades) == 1
    t = r.trades[0]
    assert t.side == "long"
    assert t.entry_time == pd.Timestamp("2024-01-02")
    assert t.exit_time == pd.Timestamp("2024-01-04")
    assert t.entry_price == pytest.approx(101.0)
    assert t.exit_price == pytest.approx(118.8)
    assert t.units == pytest.approx(100.0)
    assert t.pnl == pytest.approx(1_560.2)
    assert t.return_pct == pytest.approx(1_560.2 / 10_100)
    assert t.holding_bars == 2
    assert t.exit_reason == "signal"
    assert _equity(r) == pytest.approx([10_100, 10_399, 11_399, 11_660.2])
    assert [ts for ts, _ in r.equity_curve] == list(pd.date_range("2024-01-01", periods=4))
    assert r.final_equity == pytest.approx(11_660.2)
    assert r.metrics["total_return"] == pytest.approx(1_560.2 / 10_100)
    assert r.metrics["num_trades"] == 1
    assert r.metrics["win_rate"] == 1.0
    assert r.metrics["profit_factor"] == math.inf
    assert r.metrics["exposure"] == pytest.approx(2 / 4)  # held through bars 1 and 2
    assert r.metrics["avg_holding_bars"] == pytest.approx(2.0)
    assert r.metrics["max_drawdown"] == 0.0


def test_short_round_trip() -> None:
    # SELL from flat (allowed) at bar 0 -> bar 1 open 100 * 0.99 = 99
    #   units = 9_900 / 99 = 100; commission = 0.01 * 9_900 = 99
    #   cash = 9_900 + 9_900 - 99 = 19_701
    # BUY at bar 2 -> covers at bar 3 open 80 * 1.01 = 80.8
    #   cost = 8_080; commission = 80.8; cash = 19_701 - 8_080 - 80.8 = 11_540.2
    # equity: 9_900; 19_701 - 100 * 95 = 10_201; 19_701 - 100 * 85 = 11_201; 11_540.2
    # pnl = 100 * (99 - 80.8) - 99 - 80.8 = 1_640.2
    r = _run(
        [100, 100, 90, 80],
        [100, 95, 85, 80],
        [S, H, B, H],
        capital=9_900,
        allow_short_from_flat=True,
    )
    assert len(r.trades) == 1
    t = r.trades[0]
    assert t.side == "short"
    assert t.entry_price == pytest.approx(99.0)
    assert t.exit_price == pytest.approx(80.8)
    assert t.units == pytest.approx(100.0)
    assert t.pnl == pytest.approx(1_640.2)
    assert t.return_pct == pytest.approx(1_640.2 / 9_900)
    assert t.exit_reason == "signal"
    assert _equity(r) == pytest.approx([9_900, 10_201, 11_201, 11_540.2])


def test_force_close_at_end_of_data() -> None:
    # Long from bar 1 as in the round trip: units 100, cash -101.
    # bar 1 equity = -101 + 100 * 105 = 10_399
    # bar 2 is the last: close at 120 * 0.99 = 118.8, commission 118.8
    #   cash = -101 + 11_880 - 118.8 = 11_660.2 (the final equity point)
    r = _run([100, 100, 110], [100, 105, 120], [B, H, H])
    assert len(r.trades) == 1
    t = r.trades[0]
    assert t.exit_reason == "end_of_data"
    assert t.exit_time == pd.Timestamp("2024-01-03")
    assert t.exit_price == pytest.approx(118.8)
    assert t.pnl == pytest.approx(1_560.2)
    assert t.holding_bars == 2  # bars 1 and 2 (closed at bar 2's close)
    assert _equity(r) == pytest.approx([10_100, 10_399, 11_660.2])
    assert r.metrics["exposure"] == pytest.approx(2 / 3)


def test_entry_on_last_open_is_closed_at_last_close() -> None:
    # BUY at bar 1 -> fills at bar 2 open 100 * 1.01 = 101, units 100, cash -101;
    # force close at bar 2 close 100 * 0.99 = 99: cash = -101 + 9_900 - 99 = 9_700
    r = _run([100, 100, 100], [100, 100, 100], [H, B, H])
    (t,) = r.trades
    assert t.holding_bars == 1
    assert t.exit_reason == "end_of_data"
    assert t.pnl == pytest.approx(-400.0)
    assert _equity(r) == pytest.approx([10_100, 10_100, 9_700])


def test_signal_on_last_bar_is_ignored() -> None:
    r = _run([100, 100, 100], [100, 101, 102], [H, H, B])
    assert r.trades == []
    assert _equity(r) == pytest.approx([10_100] * 3)
    assert r.metrics["total_return"] == 0.0


def test_confidence_below_threshold_is_hold() -> None:
    prices = [100.0, 100.0, 100.0]
    below = _run(prices, prices, [B, H, H], [0.49, 1, 1], confidence_threshold=0.5)
    assert below.trades == []
    # Exactly at the threshold counts as confident.
    at = _run(prices, prices, [B, H, H], [0.5, 1, 1], confidence_threshold=0.5)
    assert len(at.trades) == 1


def test_nan_confidence_is_hold() -> None:
    prices = [100.0, 100.0, 100.0]
    r = _run(prices, prices, [B, H, H], [math.nan, 1, 1], confidence_threshold=0.0)
    assert r.trades == []


# Reversal scenario: short at bar 1, BUY at bar 1's close, flat prices except close[1].
# Short: fill 99, units 9_900 / 99 = 100, commission 99, cash = 19_701.
# bar 1 equity = 19_701 - 100 * 96.01 = 10_100
# Cover at bar 2 open 100 * 1.01 = 101: cash = 19_701 - 10_100 - 101 = 9_500
#   short pnl = 100 * (99 - 101) - 99 - 101 = -400
REV_OPEN = [100.0, 100.0, 100.0, 100.0]
REV_CLOSE = [100.0, 96.01, 100.0, 100.0]


def test_position_aware_buy_only_covers_a_short() -> None:
    r = _run(REV_OPEN, REV_CLOSE, [S, B, H, H], capital=9_900, allow_short_from_flat=True)
    assert [t.side for t in r.trades] == ["short"]
    assert r.trades[0].pnl == pytest.approx(-400.0)
    assert _equity(r) == pytest.approx([9_900, 10_100, 9_500, 9_500])


def test_target_mode_reverses_short_to_long_at_one_open() -> None:
    # After covering (cash 9_500) a long opens at the same open, fill 101, sized on the
    # signal bar's close equity 10_100: units = 10_100 / 101 = 100, commission 101,
    # cash = 9_500 - 10_100 - 101 = -701; bar 2 equity = -701 + 100 * 100 = 9_299.
    # Forced exit at bar 3 close 100 * 0.99 = 99: cash = -701 + 9_900 - 99 = 9_100.
    #   long pnl = 100 * (99 - 101) - 101 - 99 = -400
    r = _run(
        REV_OPEN,
        REV_CLOSE,
        [S, B, H, H],
        capital=9_900,
        position_awareness=False,
        allow_short_from_flat=True,
    )
    assert [t.side for t in r.trades] == ["short", "long"]
    short, long_ = r.trades
    assert short.exit_time == long_.entry_time == pd.Timestamp("2024-01-03")
    assert short.pnl == pytest.approx(-400.0)
    assert long_.units == pytest.approx(100.0)
    assert long_.entry_price == pytest.approx(101.0)
    assert long_.pnl == pytest.approx(-400.0)
    assert long_.exit_reason == "end_of_data"
    assert _equity(r) == pytest.approx([9_900, 10_100, 9_299, 9_100])
    assert r.metrics["num_trades"] == 2
    # Bars 1 (short), 2 and 3 (long): the reversal bar is counted once.
    assert r.metrics["exposure"] == pytest.approx(3 / 4)


def test_position_aware_repeated_signals_do_nothing() -> None:
    prices = [100.0] * 5
    r = _run(prices, prices, [B, B, B, H, H])
    assert len(r.trades) == 1
    assert r.trades[0].entry_time == pd.Timestamp("2024-01-02")


def test_sell_from_flat_needs_allow_short() -> None:
    prices = [100.0] * 3
    for aware in (True, False):
        off = _run(prices, prices, [S, H, H], position_awareness=aware)
        assert off.trades == []
        on = _run(prices, prices, [S, H, H], position_awareness=aware, allow_short_from_flat=True)
        assert [t.side for t in on.trades] == ["short"]


def test_target_mode_sell_without_shorting_goes_flat() -> None:
    prices = [100.0] * 4
    r = _run(prices, prices, [B, S, S, H], position_awareness=False)
    assert [(t.side, t.exit_reason) for t in r.trades] == [("long", "signal")]


def test_target_mode_sell_with_shorting_reverses_long() -> None:
    prices = [100.0] * 4
    r = _run(prices, prices, [B, S, H, H], position_awareness=False, allow_short_from_flat=True)
    assert [t.side for t in r.trades] == ["long", "short"]
    # Position aware: the SELL only closes the long.
    aware = _run(prices, prices, [B, S, H, H], allow_short_from_flat=True)
    assert [t.side for t in aware.trades] == ["long"]


def test_no_trades_metrics() -> None:
    r = _run([100, 101, 99, 100], [100, 101, 99, 100], [H, H, H, H])
    assert tuple(r.metrics) == METRIC_KEYS
    assert r.metrics["total_return"] == 0.0
    assert r.metrics["num_trades"] == 0
    for key in METRIC_KEYS:
        if key != "profit_factor":
            assert r.metrics[key] == 0, key
    assert math.isnan(r.metrics["profit_factor"])
    assert r.to_dict()["metrics"]["profit_factor"] is None


def test_metrics_keys_are_exactly_the_list() -> None:
    r = _run([100, 100, 110, 120], [100, 105, 115, 120], [B, H, S, H])
    assert set(r.metrics) == {
        "total_return",
        "annualized_return",
        "volatility",
        "sharpe_ratio",
        "sortino_ratio",
        "calmar_ratio",
        "max_drawdown",
        "max_drawdown_duration_bars",
        "win_rate",
        "profit_factor",
        "num_trades",
        "exposure",
        "avg_holding_bars",
    }


def test_to_dict_is_json_serialisable() -> None:
    r = _run([100, 100, 110, 120], [100, 105, 115, 120], [B, H, S, H])
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["start"] == "2024-01-01T00:00:00"
    assert d["end"] == "2024-01-04T00:00:00"
    assert d["bars"] == 4
    assert d["initial_capital"] == 10_100.0
    assert d["final_equity"] == pytest.approx(11_660.2)
    assert d["metrics"]["profit_factor"] is None  # no losing trade: inf
    assert d["trades"][0]["entry_time"] == "2024-01-02T00:00:00"
    assert d["trades"][0]["exit_reason"] == "signal"
    assert d["equity_curve"][1] == ["2024-01-02T00:00:00", pytest.approx(10_399.0)]


def test_accepts_numpy_datetime64_timestamps() -> None:
    ts = pd.date_range("2024-01-01", periods=3, freq="h").values
    r = run_backtest(
        ts,
        np.full(3, 100.0),
        np.full(3, 100.0),
        np.array([B, H, H], dtype=np.int8),
        np.ones(3),
        DecisionsConfig(),
        BacktestConfig(),
    )
    assert r.trades[0].entry_time == pd.Timestamp("2024-01-01 01:00")


def test_position_size_scales_units() -> None:
    # Half the 10_100 equity at fill 101 -> 50 units.
    cfg = BacktestConfig(initial_capital=10_100, commission=0.01, slippage=0.01, position_size=0.5)
    r = run_backtest(
        pd.date_range("2024-01-01", periods=3),
        np.full(3, 100.0),
        np.full(3, 100.0),
        np.array([B, H, H], dtype=np.int8),
        np.ones(3),
        DecisionsConfig(),
        cfg,
    )
    assert r.trades[0].units == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"signals": np.array([2, 0, 0])}, "signals"),
        ({"signals": np.array([1, 0])}, "signals"),
        ({"close": np.array([100.0, math.nan, 100.0])}, "close"),
        ({"open_": np.array([100.0, 0.0, 100.0])}, "open_"),
        ({"confidences": np.ones(2)}, "confidences"),
    ],
)
def test_rejects_bad_inputs(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "timestamps": pd.date_range("2024-01-01", periods=3),
        "open_": np.full(3, 100.0),
        "close": np.full(3, 100.0),
        "signals": np.zeros(3, dtype=np.int8),
        "confidences": np.ones(3),
        "decisions": DecisionsConfig(),
        "config": BacktestConfig(),
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        run_backtest(**args)  # type: ignore[arg-type]


def _reference(
    open_: np.ndarray,
    close: np.ndarray,
    signals: np.ndarray,
    conf: np.ndarray,
    d: DecisionsConfig,
    cfg: BacktestConfig,
) -> tuple[list[float], list[tuple[str, int, int, float]]]:
    """The rules read literally, one bar at a time (slow, obviously right)."""
    cash, q = cfg.initial_capital, 0.0
    equity: list[float] = []
    trades: list[tuple[str, int, int, float]] = []
    entry = (0, 0.0, 0.0)  # bar, fill, commission

    def fill(price: float, buying: bool) -> float:
        return price * (1 + cfg.slippage if buying else 1 - cfg.slippage)

    def close_pos(bar: int, price: float) -> None:
        nonlocal cash, q
        px = fill(price, buying=q < 0)
        fee = cfg.commission * abs(q * px)
        cash += q * px - fee
        pnl = q * (px - entry[1]) - entry[2] - fee
        trades.append(("long" if q > 0 else "short", entry[0], bar, pnl))
        q = 0.0

    for i in range(len(close)):
        if i > 0:
            s = int(signals[i - 1]) if conf[i - 1] >= d.confidence_threshold else 0
            pos = int(np.sign(q))
            if d.position_awareness:
                want = {
                    (1, 0): 1,
                    (1, -1): 0,
                    (-1, 1): 0,
                    (-1, 0): -1 if d.allow_short_from_flat else 0,
                }.get((s, pos), pos)
            else:
                want = pos if s == 0 else (1 if s == 1 else (-1 if d.allow_short_from_flat else 0))
            if want != pos:
                prev_equity = equity[-1]
                if pos != 0:
                    close_pos(i, open_[i])
                if want != 0:
                    px = fill(open_[i], buying=want > 0)
                    q = want * cfg.position_size * prev_equity / px
                    fee = cfg.commission * abs(q * px)
                    cash -= q * px + fee
                    entry = (i, px, fee)
        equity.append(cash + q * close[i])
    if q != 0:
        close_pos(len(close) - 1, close[-1])
        equity[-1] = cash
    return equity, trades


@pytest.mark.parametrize("aware", [True, False])
@pytest.mark.parametrize("allow_short", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_naive_bar_loop(aware: bool, allow_short: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = close * np.exp(rng.normal(0, 0.002, n))
    signals = rng.choice([-1, 0, 1], size=n, p=[0.1, 0.8, 0.1]).astype(np.int8)
    conf = rng.uniform(0, 1, n)
    d = DecisionsConfig(
        confidence_threshold=0.3, position_awareness=aware, allow_short_from_flat=allow_short
    )
    cfg = BacktestConfig(position_size=0.8)
    r = run_backtest(pd.date_range("2020-01-01", periods=n), open_, close, signals, conf, d, cfg)
    ref_equity, ref_trades = _reference(open_, close, signals, conf, d, cfg)

    np.testing.assert_allclose(r.equity, ref_equity, rtol=1e-12)
    assert len(r.trades) == len(ref_trades) > 0
    index = pd.date_range("2020-01-01", periods=n)
    for t, (side, entry_bar, exit_bar, pnl) in zip(r.trades, ref_trades, strict=True):
        assert (t.side, t.entry_time, t.exit_time) == (side, index[entry_bar], index[exit_bar])
        assert t.pnl == pytest.approx(pnl, rel=1e-9, abs=1e-9)
    assert sum(t.pnl for t in r.trades) == pytest.approx(ref_equity[-1] - cfg.initial_capital)
