"""Multi-symbol backtests: each symbol on its own, and their equal-weight combination."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ktrdr.compute.backtesting.combine import combine_equal_weight
from ktrdr.compute.backtesting.config import BacktestConfig
from ktrdr.compute.backtesting.engine import run_backtest
from ktrdr.compute.backtesting.metrics import compute_metrics
from ktrdr.compute.backtesting.pipeline import backtest_model
from ktrdr.compute.training.pipeline import train_strategy
from ktrdr.reports import render_backtest_report
from ktrdr.research.data.store import DataStore
from ktrdr.research.strategies import load_strategy
from ktrdr.research.strategies.schema import DecisionsConfig
from tests.conftest import STRATEGIES_DIR

AWARE = DecisionsConfig(confidence_threshold=0.0, position_awareness=True)


def run(start: str, closes: list[float], signals: list[int], capital: float = 10_000.0):  # type: ignore[no-untyped-def]
    stamps = pd.date_range(start, periods=len(closes), freq="D", tz="UTC")
    config = BacktestConfig(initial_capital=capital, commission=0.001, slippage=0.0005)
    return run_backtest(stamps, closes, closes, signals, np.ones(len(closes)), AWARE, config)


def test_the_combination_sums_sleeves_of_an_equal_share_carried_over_gaps() -> None:
    # A: 2024-01-01 .. 01-05; B: 2024-01-03 .. 01-08 (starts later, ends later).
    a = run("2024-01-01", [10, 11, 12, 11, 13], [1, 0, 0, 0, 0])
    b = run("2024-01-03", [20, 19, 21, 22, 20, 23], [1, 0, -1, 0, 0, 0])
    combined = combine_equal_weight([a, b], bars_per_year=252)
    assert list(combined.timestamps) == list(pd.date_range("2024-01-01", "2024-01-08", tz="UTC"))
    # Before B's first bar its sleeve is cash (half the capital); after A's last bar A's
    # final equity holds.
    a_on = np.r_[a.equity, [a.equity[-1]] * 3] / 2
    b_on = np.r_[[10_000.0] * 2, b.equity] / 2
    np.testing.assert_allclose(combined.equity, a_on + b_on, rtol=0, atol=1e-9)
    assert combined.equity[0] == 10_000.0  # starts with the whole capital
    assert combined.initial_capital == 10_000.0
    # Metrics are the single-backtest ones on that curve, with both sleeves' trades at
    # half size; exposure counts capital-bars in the market.
    pnls = np.array([t.pnl / 2 for t in [*a.trades, *b.trades]])
    holding = np.array([t.holding_bars for t in [*a.trades, *b.trades]], dtype=float)
    expected = compute_metrics(a_on + b_on, pnls, holding, 252)
    expected["exposure"] = holding.sum() / (2 * 8)
    assert combined.metrics == pytest.approx(expected)
    assert combined.metrics["num_trades"] == len(a.trades) + len(b.trades) == 2


def test_a_sleeve_is_its_backtest_run_with_a_share_of_the_capital() -> None:
    # What "each starts with capital / N" means: the engine is linear in capital.
    closes, signals = [10, 11, 12, 11, 13, 12, 14], [1, 0, -1, 0, 1, 0, 0]
    whole = run("2024-01-01", closes, signals, capital=10_000.0)
    third = run("2024-01-01", closes, signals, capital=10_000.0 / 3)
    np.testing.assert_allclose(whole.equity / 3, third.equity, rtol=1e-12)


def test_combining_needs_runs_of_the_same_capital() -> None:
    with pytest.raises(ValueError, match="same capital"):
        combine_equal_weight(
            [run("2024-01-01", [1, 2], [0, 0]), run("2024-01-01", [1, 2], [0, 0], 5.0)], 252
        )
    with pytest.raises(ValueError, match="at least one"):
        combine_equal_weight([], 252)


# -- through the pipeline, with a model trained on AAPL and MSFT -------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DataStore]:
    config = load_strategy("rsi_macd_trend", STRATEGIES_DIR)
    quick = config.model_copy(update={"training": config.training.model_copy(update={"epochs": 2})})
    assert quick.training_data.symbols == ["AAPL", "MSFT"]
    store = DataStore(tmp_path_factory.mktemp("data"))
    summary = train_strategy(quick, store, tmp_path_factory.mktemp("models"), device="cpu")
    return Path(summary["model_path"]), store


@pytest.fixture(scope="module")
def multi(trained: tuple[Path, DataStore]) -> dict[str, Any]:
    model_dir, store = trained
    return backtest_model(model_dir, store)


@pytest.mark.slow
def test_without_a_symbol_each_trained_symbol_is_backtested(
    trained: tuple[Path, DataStore], multi: dict[str, Any]
) -> None:
    model_dir, store = trained
    assert multi["symbols"] == ["AAPL", "MSFT"]
    assert set(multi["per_symbol"]) == {"AAPL", "MSFT"}
    for symbol in ("AAPL", "MSFT"):
        alone = backtest_model(model_dir, store, symbol=symbol)
        part = multi["per_symbol"][symbol]
        # Each symbol's part is exactly its own single-symbol backtest (its test split).
        for key in ("metrics", "benchmark", "excess_return", "trades", "range", "splits"):
            assert part[key] == alone[key], (symbol, key)
        assert part["range"]["source"] == "test_split"
        assert part["benchmark"]["num_trades"] == 1  # buy and hold of that symbol
        assert "chart" not in part
    # The top level is the first symbol's whole result: older readers read it as before.
    first = backtest_model(model_dir, store, symbol="AAPL")
    assert {
        k: v for k, v in multi.items() if k not in ("symbols", "per_symbol", "combined")
    } == first


@pytest.mark.slow
def test_the_combination_is_the_equal_weight_portfolio_of_the_symbols(
    trained: tuple[Path, DataStore], multi: dict[str, Any]
) -> None:
    combined = multi["combined"]
    assert combined["symbols"] == ["AAPL", "MSFT"]
    assert combined["weighting"] == "equal"
    assert combined["initial_capital"] == 100_000.0
    # Rebuild it from the per-symbol equity: each symbol's curve over its window.
    model_dir, store = trained
    curves = []
    for symbol in ("AAPL", "MSFT"):
        alone = backtest_model(model_dir, store, symbol=symbol)
        curve = pd.Series(
            [v for _, v in alone["equity_curve"]],
            index=pd.DatetimeIndex([t for t, _ in alone["equity_curve"]]),
        )
        curves.append(curve)
    union = curves[0].index.union(curves[1].index)
    expected = sum(c.reindex(union).ffill().fillna(100_000.0) / 2 for c in curves)
    got = pd.Series(
        [v for _, v in combined["equity_curve"]],
        index=pd.DatetimeIndex([t for t, _ in combined["equity_curve"]]),
    )
    assert list(got.index) == list(union)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9)
    assert combined["final_equity"] == pytest.approx(expected.iloc[-1])
    assert combined["metrics"]["total_return"] == pytest.approx(expected.iloc[-1] / 100_000.0 - 1)
    trades = sum(multi["per_symbol"][s]["metrics"]["num_trades"] for s in ("AAPL", "MSFT"))
    assert combined["metrics"]["num_trades"] == trades
    assert combined["excess_return"] == pytest.approx(
        combined["metrics"]["total_return"] - combined["benchmark"]["total_return"]
    )
    # The benchmark is the same portfolio of the symbols' buy and hold.
    holds = [multi["per_symbol"][s]["benchmark"]["total_return"] for s in ("AAPL", "MSFT")]
    assert combined["benchmark"]["total_return"] == pytest.approx(sum(holds) / 2, rel=1e-9)
    assert "trades" not in combined  # they are each symbol's


@pytest.mark.slow
def test_symbols_choose_and_order_the_backtested_ones(trained: tuple[Path, DataStore]) -> None:
    model_dir, store = trained
    msft = backtest_model(model_dir, store, symbols=["MSFT"])
    assert "per_symbol" not in msft  # one symbol: the single-symbol result
    assert msft == backtest_model(model_dir, store, symbol="MSFT")
    both = backtest_model(model_dir, store, symbols=["MSFT", "AAPL", "MSFT"])
    assert both["symbols"] == ["MSFT", "AAPL"]
    assert both["symbol"] == "MSFT"


@pytest.mark.slow
def test_the_report_of_a_multi_symbol_backtest_has_a_line_per_symbol(
    multi: dict[str, Any],
) -> None:
    html = render_backtest_report(multi, "op-1")
    assert 'id="per-symbol"' in html
    for name in ("AAPL", "MSFT", "Combined (equal weight)"):
        assert f'data-symbol="{name}"' in html
    total = multi["combined"]["metrics"]["total_return"]
    assert f'data-metric="total_return" data-value="{total!r}"' in html
    assert "The charts, metrics and trades below are those of AAPL" in html
    single = {k: v for k, v in multi.items() if k not in ("symbols", "per_symbol", "combined")}
    assert 'id="per-symbol"' not in render_backtest_report(single)
