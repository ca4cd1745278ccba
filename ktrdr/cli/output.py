"""Console helpers: rich tables for people, JSON for programs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ktrdr.core.errors import InvalidInputError

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
    """JSON on stdout; pydantic models as their JSON form."""
    if hasattr(data, "model_dump"):
        data = data.model_dump(mode="json")
    elif isinstance(data, list):
        data = [
            item.model_dump(mode="json") if hasattr(item, "model_dump") else item for item in data
        ]
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def read_text_file(path: Path) -> str:
    """A user's text file (CSV, YAML) as UTF-8; a binary or unreadable file is an input error."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInputError(
            f"{path} is not UTF-8 text (byte {error.start} is not): is it the right file?"
        ) from None
    except OSError as error:
        raise InvalidInputError(f"cannot read {path}: {error.strerror}") from None


def format_metric(name: str, value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return METRIC_FORMATS.get(name, "{:.3f}").format(value)
    return str(value)


def table(
    title: str, columns: list[str], rows: list[list[Any]], whole: set[str] | None = None
) -> Table:
    """A table; the ``whole`` columns are never shortened (ids, meant for copying)."""
    result = Table(title=title, title_justify="left", min_width=len(title) + 4)
    for column in columns:
        if whole and column in whole:
            result.add_column(column, no_wrap=True, overflow="ignore", min_width=8)
        else:
            result.add_column(column)
    for row in rows:
        result.add_row(*["-" if cell is None else str(cell) for cell in row])
    return result


PER_SYMBOL_METRICS = ("total_return", "sharpe_ratio", "max_drawdown", "num_trades")


def backtest_tables(result: dict[str, Any]) -> list[Table]:
    """The metrics (beside buy and hold) and the run; with several symbols, first the
    line of each symbol and of their equal-weight combination, then the first symbol's."""
    span = result["range"]
    title = (
        f"Backtest {result['strategy']} · {result['symbol']} {result['timeframe']} · "
        f"{span['start'][:10]} .. {span['end'][:10]} ({span['source']})"
    )
    tables = [per_symbol_table(result)] if result.get("per_symbol") else []
    benchmark = result.get("benchmark")  # buy and hold; absent from older results
    columns = ["metric", "value", "buy & hold"] if benchmark else ["metric", "value"]
    rows = [
        [name, format_metric(name, value)]
        + ([format_metric(name, benchmark.get(name))] if benchmark else [])
        for name, value in result["metrics"].items()
    ]
    if benchmark and result.get("excess_return") is not None:
        rows.append(["excess_return", format_metric("total_return", result["excess_return"]), ""])
    metrics = table(title, columns, rows)
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
        whole={"model"},
    )
    return [*tables, metrics, summary]


def per_symbol_table(result: dict[str, Any]) -> Table:
    """One line per symbol and one for the combination: metrics, buy & hold, excess.

    Narrow enough for 80 columns; each symbol's window is in the JSON (``per_symbol``).
    """
    columns = ["symbol", "return", "sharpe", "max dd", "trades", "buy & hold", "excess"]

    def line(name: str, part: dict[str, Any]) -> list[Any]:
        return [
            name,
            *(format_metric(key, part["metrics"].get(key)) for key in PER_SYMBOL_METRICS),
            format_metric("total_return", (part.get("benchmark") or {}).get("total_return")),
            format_metric("total_return", part.get("excess_return")),
        ]

    rows = [line(symbol, part) for symbol, part in result["per_symbol"].items()]
    if result.get("combined"):
        rows.append(line("combined", result["combined"]))
    symbols = ", ".join(result["per_symbol"])
    title = f"Backtest {result['strategy']} · {symbols} · combined: equal weight"
    return table(title, columns, rows)


def training_table(result: dict[str, Any]) -> Table:
    """Loss and accuracy per split, with the rows each split lost to the purge (labels
    that would read the next split) and the embargo; says when it resumed a checkpoint."""
    purge = result.get("purge") or {}
    purged, embargoed = purge.get("purged") or {}, purge.get("embargoed") or {}
    rows = []
    for split, metrics in result["metrics"].items():
        loss = metrics.get("loss")
        accuracy = metrics.get("accuracy")
        dropped = purged.get(split, 0) + embargoed.get(split, 0) if purge else None
        rows.append(
            [
                split,
                metrics.get("rows"),
                dropped,
                "-" if loss is None else f"{loss:.4f}",
                "-" if accuracy is None else f"{accuracy:.2%}",
            ]
        )
    resumed = result.get("resumed_from_epoch")
    return table(
        f"Trained {result['model_id']}: {result['epochs_run']} epochs, "
        f"{result['training_seconds']:.1f}s on {result['device']}"
        + (f", resumed from epoch {resumed}" if resumed else ""),
        ["split", "rows", "purged", "loss", "accuracy"],
        rows,
    )
