"""``ktrdr backtest`` of a strategy trained on several symbols, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ktrdr.cli.app import app
from tests.support.paths import STRATEGIES_DIR

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_a_backtest_prints_a_line_per_symbol_and_one_for_the_combination(
    ktrdr_home: Path, tmp_path: Path
) -> None:
    quick = tmp_path / "rsi_macd_trend.yaml"  # two epochs: the loop, not the model, is tested
    text = (STRATEGIES_DIR / "rsi_macd_trend.yaml").read_text()
    quick.write_text(text.replace("epochs: 60", "epochs: 2"))
    assert "epochs: 2" in quick.read_text()
    invoke("train", str(quick), "--local", "--json")

    result = json.loads(invoke("backtest", str(quick), "--local", "--json"))
    assert result["symbols"] == ["AAPL", "MSFT"]
    printed = invoke("backtest", str(quick), "--local")
    lines = printed.splitlines()
    assert "combined: equal weight" in printed
    for name in ("AAPL", "MSFT", "combined"):
        (line,) = [row for row in lines if row.strip("│ ").startswith(name + " ")]
        part = result["combined"] if name == "combined" else result["per_symbol"][name]
        total = part["metrics"]["total_return"]
        assert f"{total * 100:.2f}%" in line, line  # its own total return, on its line
        assert f"{part['benchmark']['total_return'] * 100:.2f}%" in line, line

    one = invoke("backtest", str(quick), "--local", "--symbol", "MSFT")
    assert "combined" not in one
    assert "MSFT" in one
    chosen = json.loads(
        invoke("backtest", str(quick), "--local", "--json", "--symbol", "MSFT", "--symbol", "AAPL")
    )
    assert chosen["symbols"] == ["MSFT", "AAPL"]
