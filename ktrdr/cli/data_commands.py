"""``ktrdr data``: list, show, import and validate OHLCV series."""

from __future__ import annotations

from pathlib import Path

import typer

from ktrdr.cli.context import data_store
from ktrdr.cli.output import console, error_console, print_json, read_text_file, table
from ktrdr.research.data.csv_format import CsvReport, parse_ohlcv_csv

app = typer.Typer(help="Market data: list, show, import and validate OHLCV series.")


@app.command("list")
def list_series(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every stored series (yours first, then the bundled samples)."""
    series = data_store().list_series()
    if as_json:
        print_json([s.to_dict() for s in series])
        return
    rows = [[s.symbol, s.timeframe, s.bars, s.start.date(), s.end.date(), s.source] for s in series]
    console.print(table("Series", ["symbol", "timeframe", "bars", "start", "end", "source"], rows))


@app.command("show")
def show(
    symbol: str,
    timeframe: str = typer.Option("1d", "--timeframe", "-t"),
    start: str | None = typer.Option(None, help="First date (ISO-8601)."),
    end: str | None = typer.Option(None, help="Last date (ISO-8601)."),
    rows: int = typer.Option(10, help="Bars to show from the end."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The last bars of a series."""
    bars = data_store().read_bars(symbol, timeframe, start=start, end=end)
    shown = bars[-rows:] if rows > 0 else bars
    if as_json:
        print_json([bar.to_dict() for bar in shown])
        return
    console.print(
        table(
            f"{symbol.upper()} {timeframe}: {len(bars)} bars",
            ["timestamp", "open", "high", "low", "close", "volume"],
            [
                [b.timestamp.isoformat(), b.open, b.high, b.low, b.close, int(b.volume)]
                for b in shown
            ],
        )
    )


def _print_report(report: CsvReport, source: str) -> None:
    for problem in report.errors:
        error_console.print(f"[red]{source}: {problem}[/]")
    if report.more_errors:
        error_console.print(f"[red]... and {report.more_errors} more problems[/]")
    unexpected = [gap for gap in report.gaps if not gap.expected]
    if report.gaps:
        console.print(
            f"gaps: {len(report.gaps) - len(unexpected)} expected (weekends, holidays), "
            f"{len(unexpected)} unexpected"
        )
    for gap in unexpected[:20]:
        console.print(f"  [yellow]unexpected gap {gap}[/]")


@app.command("validate")
def validate(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    timeframe: str = typer.Option("1d", "--timeframe", "-t"),
) -> None:
    """Check a CSV file without importing it; exits 1 when it has errors."""
    report = parse_ohlcv_csv(read_text_file(path), timeframe)
    _print_report(report, str(path))
    if not report.ok:
        raise typer.Exit(1)
    console.print(f"[green]{path}: {len(report.bars)} valid bars[/]")


@app.command("import")
def import_series(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    symbol: str = typer.Option(..., "--symbol", "-s"),
    timeframe: str = typer.Option("1d", "--timeframe", "-t"),
    replace: bool = typer.Option(False, help="Replace an existing series."),
) -> None:
    """Validate a CSV and store it as <SYMBOL>_<TIMEFRAME>.csv; nothing is written on error."""
    result = data_store().import_csv(symbol, timeframe, read_text_file(path), replace=replace)
    _print_report(result.report, str(path))
    console.print(f"[green]stored {result.bars} bars in {result.path}[/]")
