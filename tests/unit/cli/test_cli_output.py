"""What the CLI prints of a training and of a multi-symbol backtest (rendered by rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from ktrdr.cli.output import per_symbol_table, training_table


def printed(renderable: Any) -> list[str]:
    console = Console(width=100, record=True)
    console.print(renderable)
    return console.export_text().splitlines()


def cells(lines: list[str]) -> dict[str, list[str]]:
    """The table's body rows: first cell -> the other cells."""
    rows = [[c.strip() for c in line.strip("│").split("│")] for line in lines if "│" in line]
    return {row[0]: row[1:] for row in rows}


def split(rows: int) -> dict[str, Any]:
    return {"rows": rows, "loss": 1.0, "accuracy": 0.5}


def test_the_training_table_shows_the_purged_rows_and_a_resume() -> None:
    result = {
        "model_id": "s/1d_v1",
        "epochs_run": 9,
        "training_seconds": 1.0,
        "device": "cpu",
        "metrics": {"train": split(700), "validation": split(140), "test": split(140)},
        "purge": {
            "label_horizon": 10,
            "embargo_bars": 5,
            "purged": {"train": 10, "validation": 10, "test": 10},
            "embargoed": {"validation": 5, "test": 5},
        },
        "resumed_from_epoch": 4,
    }
    lines = printed(training_table(result))
    assert "resumed from epoch 4" in lines[0]
    purged = {name: row[1] for name, row in cells(lines).items()}
    assert purged == {"train": "10", "validation": "15", "test": "15"}  # purge + embargo
    del result["purge"], result["resumed_from_epoch"]  # an older result
    assert "resumed" not in printed(training_table(result))[0]


def test_the_per_symbol_table_has_a_line_per_symbol_and_the_combination() -> None:
    def part(total: float, held: float, trades: int) -> dict[str, Any]:
        metrics = {"total_return": total, "sharpe_ratio": 1.0, "max_drawdown": 0.1}
        return {
            "metrics": {**metrics, "num_trades": trades},
            "benchmark": {"total_return": held},
            "excess_return": total - held,
        }

    result = {
        "strategy": "s",
        "per_symbol": {"AAPL": part(0.1, 0.2, 3), "MSFT": part(0.3, 0.1, 2)},
        "combined": part(0.2, 0.15, 5),
    }
    lines = printed(per_symbol_table(result))
    assert "AAPL, MSFT" in lines[0]
    # return, sharpe, max dd, trades, buy & hold, excess
    assert cells(lines) == {
        "AAPL": ["10.00%", "1.000", "10.00%", "3", "20.00%", "-10.00%"],
        "MSFT": ["30.00%", "1.000", "10.00%", "2", "10.00%", "20.00%"],
        "combined": ["20.00%", "1.000", "10.00%", "5", "15.00%", "5.00%"],
    }
