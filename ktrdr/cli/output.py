"""Console helpers: rich tables for people, JSON for programs."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()
error_console = Console(stderr=True)

METRIC_FORMATS = {
    "total_return": "{:.2%}",
    "annualized_return": "{:.2%}",
    "volatility": "{:.2%}",
    "max_drawdown": "{:.2%}",
    "win_rate": "{:.2%}",
    "exposure": "{:.2%}",
}


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def format_metric(name: str, value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return METRIC_FORMATS.get(name, "{:.3f}").format(value)
    return str(value)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    result = Table(title=title, title_justify="left", min_width=len(title) + 4)
    for column in columns:
        result.add_column(column)
    for row in rows:
        result.add_row(*["-" if cell is None else str(cell) for cell in row])
    return result


def backtest_tables(result: dict[str, Any]) -> list[Table]:
    span = result["range"]
    title = (
        f"Backtest {result['strategy']} · {result['symbol']} {result['timeframe']} · "
        f"{span['start'][:10]} .. {span['end'][:10]} ({span['source']})"
    )
    metrics = table(
        title,
        ["metric", "value"],
        [[name, format_metric(name, value)] for name, value in result["metrics"].items()],
    )
    summary = table(
        "Run",
        ["model", "bars", "initial capital", "final equity", "signals B/H/S"],
        [
            [
                result["model_id"],
                result["bars"],
                f"{result['initial_capital']:,.2f}",
                f"{result['final_equity']:,.2f}",
                "{buy}/{hold}/{sell}".format(**result["signal_counts"]),
            ]
        ],
    )
    return [metrics, summary]


def training_table(result: dict[str, Any]) -> Table:
    rows = []
    for split, metrics in result["metrics"].items():
        loss = metrics.get("loss")
        accuracy = metrics.get("accuracy")
        rows.append(
            [
                split,
                metrics.get("rows"),
                "-" if loss is None else f"{loss:.4f}",
                "-" if accuracy is None else f"{accuracy:.2%}",
            ]
        )
    return table(
        f"Trained {result['model_id']}: {result['epochs_run']} epochs, "
        f"{result['training_seconds']:.1f}s on {result['device']}",
        ["split", "rows", "loss", "accuracy"],
        rows,
    )
