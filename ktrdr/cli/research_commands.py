"""``ktrdr train`` and ``ktrdr backtest``: through the backend, or in this process (--local)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from ktrdr.cli.compute_bridge import load_compute
from ktrdr.cli.context import api_client, data_store, settings
from ktrdr.cli.follow import follow_operation
from ktrdr.cli.output import (
    backtest_tables,
    console,
    error_console,
    print_json,
    read_text_file,
    training_table,
)
from ktrdr.cli.report_file import write_local_report, write_report
from ktrdr.client import ApiClient
from ktrdr.core.api_models import OperationStarted
from ktrdr.core.enums import OperationStatus, OperationType
from ktrdr.core.errors import ConflictError, InvalidInputError
from ktrdr.core.progress import Progress as JobProgress
from ktrdr.research.data.csv_format import parse_timestamp
from ktrdr.research.model_registry import latest_model, model_at, resolve_model
from ktrdr.research.strategies import StrategyConfig, load_strategy


def _sync_strategy(client: ApiClient, strategy: str, config: StrategyConfig) -> None:
    """A strategy given as a file path is uploaded so that the backend runs this text."""
    path = Path(strategy)
    if path.suffix in {".yaml", ".yml"} and path.is_file():
        client.upload_strategy(config.name, read_text_file(path), replace=True)


def _after_start(
    client: ApiClient,
    started: OperationStarted,
    follow: bool,
    as_json: bool,
    kind: OperationType,
    report: Path | None = None,
    printer: Callable[[dict[str, Any], bool], None] | None = None,
) -> None:
    """Say what was queued, or follow it to the end: its result printed (``printer``, else
    the training or backtest table) and its report written."""
    operation_id = started.operation_id
    if not follow and report is None:
        if as_json:
            print_json(started)
        else:
            console.print(f"queued {kind} operation [bold]{operation_id}[/] ({started.status})")
            console.print(f"follow it with: ktrdr ops show {operation_id}")
        return
    final = follow_operation(client, operation_id, f"{kind} {operation_id[:8]}")
    if final.status != OperationStatus.COMPLETED or final.result is None:
        raise ConflictError(f"operation {operation_id} {final.status}: {final.error}")
    if printer is None:
        _print_result(final.result, as_json, kind)
    else:
        printer(final.result, as_json)
    if report is not None:  # drawn by the backend from the result it stored
        write_report(report, client.report(operation_id))


REPORT_HELP = "Write the HTML report to this file (through the API: follows until done)."


def _print_result(result: dict[str, Any], as_json: bool, kind: OperationType) -> None:
    if as_json:
        print_json(result)
    elif kind == OperationType.TRAINING:
        console.print(training_table(result))
    else:
        for rendered in backtest_tables(result):
            console.print(rendered)


def _progress_bar(description: str) -> Progress:
    return Progress(
        TextColumn(description),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[message]}"),
        TimeElapsedColumn(),
        console=error_console,  # stdout stays clean for --json
        transient=False,
    )


def _check_dates(start: str | None, end: str | None) -> None:
    """Bad dates are refused here, with their option's name, before any work starts."""
    for name, value in (("--start", start), ("--end", end)):
        if value is not None:
            try:
                parse_timestamp(value)
            except InvalidInputError as error:
                raise InvalidInputError(f"{name}: {error}", field=name) from None


def _limit_threads() -> None:
    load_compute("ktrdr.compute.device").limit_threads(settings().torch_thread_count)


def train(
    strategy: str = typer.Argument(..., help="A name under strategies/ or a YAML path."),
    local: bool = typer.Option(False, "--local", help="Train in this process."),
    symbols: list[str] | None = typer.Option(None, "--symbol", help="Override the symbols."),
    start: str | None = typer.Option(None, help="First date (ISO-8601)."),
    end: str | None = typer.Option(None, help="Last date (ISO-8601)."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow until it ends."),
    as_json: bool = typer.Option(False, "--json", help="Print the result JSON."),
    report: Path | None = typer.Option(None, "--report", help=REPORT_HELP),
) -> None:
    """Train a strategy's network and store a new model version."""
    config = load_strategy(strategy, settings().strategies_dir)
    if not local:
        with api_client() as client:
            _sync_strategy(client, strategy, config)
            started = client.start_training(
                config.name, symbols=symbols or None, start_date=start, end_date=end
            )
            _after_start(client, started, follow, as_json, OperationType.TRAINING, report)
        return
    _check_dates(start, end)
    pipeline = load_compute("ktrdr.compute.training.pipeline")
    _limit_threads()
    with _progress_bar(f"training {config.name}") as bar:
        task = bar.add_task("train", total=100, message="")

        def show_progress(progress: JobProgress) -> None:
            bar.update(task, completed=progress.percent, message=progress.message)

        result = pipeline.train_strategy(
            config,
            data_store(),
            settings().models_path,
            symbols=symbols or None,
            start=start,
            end=end,
            progress=show_progress,
        )
    _print_result(result, as_json, OperationType.TRAINING)
    if report is not None:
        write_local_report(report, OperationType.TRAINING, result)


def backtest(
    strategy: str = typer.Argument(..., help="A name under strategies/ or a YAML path."),
    local: bool = typer.Option(False, "--local", help="Backtest in this process."),
    model: str | None = typer.Option(
        None,
        help="Model id (strategy/1d_v2), version (v2) or, with --local, a model folder; "
        "default: the strategy's latest.",
    ),
    symbol: list[str] | None = typer.Option(
        None,
        "--symbol",
        help="A symbol to backtest (repeat for several); default: each symbol the model "
        "was trained on. Several give per-symbol results and their equal-weight combination.",
    ),
    start: str | None = typer.Option(None, help="First date; default: the model's test split."),
    end: str | None = typer.Option(None, help="Last date."),
    capital: float = typer.Option(100_000.0, help="Initial capital."),
    commission: float = typer.Option(0.001, help="Commission, fraction of notional per side."),
    slippage: float = typer.Option(0.0005, help="Slippage, fraction of price."),
    position_size: float = typer.Option(1.0, help="Fraction of equity per position."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow until it ends."),
    as_json: bool = typer.Option(False, "--json", help="Print the result JSON."),
    report: Path | None = typer.Option(None, "--report", help=REPORT_HELP),
) -> None:
    """Backtest a trained model of the strategy (out of sample unless dates are given)."""
    config = load_strategy(strategy, settings().strategies_dir)
    # One symbol keeps the single-symbol request; several name them all.
    chosen = {"symbol": symbol[0]} if symbol and len(symbol) == 1 else {"symbols": symbol or None}
    costs = {
        "initial_capital": capital,
        "commission": commission,
        "slippage": slippage,
        "position_size": position_size,
    }
    if not local:
        with api_client() as client:
            _sync_strategy(client, strategy, config)
            started = client.start_backtest(
                config.name, model=model, start_date=start, end_date=end, **chosen, **costs
            )
            _after_start(client, started, follow, as_json, OperationType.BACKTESTING, report)
        return
    _check_dates(start, end)
    timeframe = config.training_data.base_timeframe
    models_dir = settings().models_path
    if model and Path(model).is_dir():
        info = model_at(Path(model))
    elif model:
        info = resolve_model(models_dir, config.name, timeframe, model)
    else:
        info = latest_model(models_dir, config.name, timeframe)
    pipeline = load_compute("ktrdr.compute.backtesting.pipeline")
    backtest_config = load_compute("ktrdr.compute.backtesting.config")
    _limit_threads()
    result = pipeline.backtest_model(
        Path(info.path),
        data_store(),
        **chosen,
        start=start,
        end=end,
        config=backtest_config.BacktestConfig(**costs),
        decisions=config.decisions,
    )
    _print_result(result, as_json, OperationType.BACKTESTING)
    if report is not None:
        write_local_report(report, OperationType.BACKTESTING, result)
