"""The data, strategies and models commands, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ktrdr.cli.app import app

runner = CliRunner()
HEADER = "timestamp,open,high,low,close,volume\n"
GOOD = HEADER + "2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,12,10,11,200\n"
BAD = HEADER + "2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,9,10,11,-5\n"  # high < low, volume


def test_data_list_shows_bundled_samples(ktrdr_home: Path) -> None:
    result = runner.invoke(app, ["data", "list", "--json"])
    assert result.exit_code == 0, result.output
    series = {(s["symbol"], s["source"]) for s in json.loads(result.stdout)}
    assert {("AAPL", "sample"), ("MSFT", "sample"), ("IBM", "sample")} <= series


def test_data_import_validate_and_show(ktrdr_home: Path, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(GOOD)
    bad.write_text(BAD)

    imported = runner.invoke(app, ["data", "import", str(good), "--symbol", "test"])
    assert imported.exit_code == 0, imported.output
    stored = ktrdr_home / "data" / "TEST_1d.csv"
    assert stored.is_file()
    before = stored.read_bytes()

    refused = runner.invoke(app, ["data", "import", str(bad), "--symbol", "TEST", "--replace"])
    assert refused.exit_code == 1
    assert "line 3" in refused.output
    assert "nothing was written" in refused.output
    assert stored.read_bytes() == before

    checked = runner.invoke(app, ["data", "validate", str(bad)])
    assert checked.exit_code == 1
    assert "line 3" in checked.output

    shown = runner.invoke(app, ["data", "show", "TEST", "--json"])
    assert shown.exit_code == 0, shown.output
    assert [bar["close"] for bar in json.loads(shown.stdout)] == [10.5, 11.0]

    missing = runner.invoke(app, ["data", "show", "NOPE"])
    assert missing.exit_code == 1


def test_strategies_list_and_validate(ktrdr_home: Path, tmp_path: Path) -> None:
    listed = runner.invoke(app, ["strategies", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {s["name"] for s in json.loads(listed.stdout)} >= {
        "rsi_macd_trend",
        "stoch_adx_breakout",
    }
    assert runner.invoke(app, ["strategies", "validate", "rsi_macd_trend"]).exit_code == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nindicators: {r: {type: rsi, params: {period: 1}}}\n")
    result = runner.invoke(app, ["strategies", "validate", str(broken)])
    assert result.exit_code == 1
    assert "indicators.r.params.period" in result.output
    assert "nn_inputs: required field is missing" in result.output


def test_models_list_is_empty_without_training(ktrdr_home: Path) -> None:
    result = runner.invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("ktrdr ")


def test_mcp_refuses_an_unknown_transport() -> None:
    result = runner.invoke(app, ["mcp", "--transport", "carrier-pigeon"])
    assert result.exit_code == 1
    assert "--transport must be one of stdio, http" in result.output
