"""The CLI's local research loop: train, then backtest out of sample, on bundled data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ktrdr.cli.app import app

METRIC_KEYS = {
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
runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.slow
def test_train_then_backtest_is_complete_and_repeatable(ktrdr_home: Path) -> None:
    first = json.loads(invoke("train", "stoch_adx_breakout", "--local", "--json"))
    second = json.loads(invoke("train", "stoch_adx_breakout", "--local", "--json"))
    assert (first["model_id"], second["model_id"]) == (
        "stoch_adx_breakout/1d_v1",
        "stoch_adx_breakout/1d_v2",
    )
    assert first["metrics"] == second["metrics"]

    backtests = [
        json.loads(invoke("backtest", "stoch_adx_breakout", "--local", "--json", "--model", m))
        for m in (first["model_id"], second["model_id"])
    ]
    result = backtests[0]
    assert set(result["metrics"]) == METRIC_KEYS
    assert result["metrics"] == backtests[1]["metrics"]
    assert result["metrics"]["num_trades"] > 0
    # Buy-and-hold over the same bars, same costs: one entry at the second bar's open,
    # closed at the last close.
    assert set(result["benchmark"]) == METRIC_KEYS
    chart, costs = result["chart"], result["costs"]
    assert chart["step"] == 1
    assert len(chart["time"]) == result["bars"] == chart["bars"]
    slip, fee = costs["slippage"], costs["commission"]
    held = chart["close"][-1] * (1 - slip) * (1 - fee) / (chart["open"][1] * (1 + slip))
    assert result["benchmark"]["total_return"] == pytest.approx(held - fee - 1, rel=1e-5)
    assert result["benchmark"]["num_trades"] == 1
    assert result["excess_return"] == pytest.approx(
        result["metrics"]["total_return"] - result["benchmark"]["total_return"]
    )
    assert chart["equity"][-1] == pytest.approx(result["final_equity"], abs=0.01)
    assert result["splits"] == first["ranges"]["IBM"]
    # The training result carries what its report draws.
    assert len(first["history"]) == first["epochs_run"]
    assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy"} <= set(first["history"][0])
    assert 1 <= first["best_epoch"] <= first["epochs_run"]
    # Out of sample by default: the backtest starts where the test split starts.
    test_range = first["ranges"]["IBM"]["test"]
    assert result["range"]["source"] == "test_split"
    assert result["range"]["start"][:10] == test_range[0][:10]
    assert result["range"]["end"][:10] == test_range[1][:10]

    latest = json.loads(invoke("backtest", "stoch_adx_breakout", "--local", "--json"))
    assert latest["model_id"] == second["model_id"]
    listed = json.loads(invoke("models", "list", "--json"))
    assert [m["id"] for m in listed] == [first["model_id"], second["model_id"]]


@pytest.mark.slow
def test_local_runs_write_their_reports(ktrdr_home: Path, tmp_path: Path) -> None:
    trained = json.loads(
        invoke("train", "canary_smoke", "--local", "--json", "--report", str(tmp_path / "t.html"))
    )
    report = tmp_path / "out" / "b.html"  # a missing folder is made
    tested = json.loads(
        invoke("backtest", "canary_smoke", "--local", "--json", "--report", str(report))
    )
    training_html = (tmp_path / "t.html").read_text()
    assert 'data-report="training"' in training_html
    assert trained["model_id"] in training_html
    backtest_html = report.read_text()
    assert 'data-report="backtest"' in backtest_html
    for key, value in tested["metrics"].items():
        assert f'data-metric="{key}"' in backtest_html
        assert f'data-value="{json.dumps(value)}"' in backtest_html
    assert backtest_html.count('class="long"') + backtest_html.count('class="short"') == len(
        tested["trades"]
    )


def test_backtest_without_a_model_says_to_train(ktrdr_home: Path) -> None:
    result = runner.invoke(app, ["backtest", "stoch_adx_breakout", "--local"])
    assert result.exit_code == 1
    assert "no trained model for strategy 'stoch_adx_breakout'" in result.output
    assert "train it first" in result.output


def test_backtest_with_explicit_dates(ktrdr_home: Path) -> None:
    invoke("train", "stoch_adx_breakout", "--local", "--json")
    result = json.loads(
        invoke(
            "backtest",
            "stoch_adx_breakout",
            "--local",
            "--json",
            "--start",
            "2006-01-01",
            "--end",
            "2006-12-31",
        )
    )
    assert result["range"]["source"] == "explicit"
    assert result["range"]["start"].startswith("2006-01-03")
    assert result["range"]["end"].startswith("2006-12-29")
