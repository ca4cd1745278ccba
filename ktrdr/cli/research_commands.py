"""``ktrdr train`` and ``ktrdr backtest``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from ktrdr.cli.api_client import ApiClient, ApiError
from ktrdr.cli.compute_bridge import load_compute
from ktrdr.cli.context import api_client, data_store, settings
from ktrdr.cli.follow import follow_operation
from ktrdr.cli.output import backtest_tables, console, error_console, print_json, training_table
from ktrdr.models.registry import ModelNotFoundError, get_model, latest_model
from ktrdr.strategies import StrategyConfig, StrategyError, load_strategy


@contextmanager
def _api_errors() -> Iterator[None]:
    try:
        yield
    except ApiError as error:
        error_console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from error


def _sync_strategy(client: ApiClient, strategy: str, config: StrategyConfig) -> None:
    """A strategy given as a file path is uploaded so that the backend runs this text."""
    path = Path(strategy)
    if path.suffix in {".yaml", ".yml"} and path.is_file():
        client.upload_strategy(config.name, path.read_text(encoding="utf-8"), replace=True)


def _after_start(client: ApiClient, started: dict, follow: bool, as_json: bool, kind: str) -> None:
    operation_id = started["operation_id"]
    if not follow:
        if as_json:
            print_json(started)
        else:
            console.print(f"queued {kind} operation [bold]{operation_id}[/] ({started['status']})")
            console.print(f"follow it with: ktrdr ops show {operation_id}")
        return
    final = follow_operation(client, operation_id, f"{kind} {operation_id[:8]}")
    if final["status"] != "completed":
        error_console.print(f"[red]operation {operation_id} {final['status']}: {final['error']}[/]")
        raise typer.Exit(1)
    result = final["result"]
    if as_json:
        print_json(result)
    elif kind == "training":
        console.print(training_table(result))
    else:
        for rendered in backtest_tables(result):
            console.print(rendered)


def _load(strategy: str) -> StrategyConfig:
    try:
        return load_strategy(strategy, settings().strategies_dir)
    except (StrategyError, FileNotFoundError, ValueError) as error:
        error_console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from error


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


def train(
    strategy: str = typer.Argument(..., help="A name under strategies/ or a YAML path."),
    local: bool = typer.Option(False, "--local", help="Train in this process."),
    symbols: list[str] | None = typer.Option(None, "--symbol", help="Override the symbols."),
    start: str | None = typer.Option(None, help="First date (ISO-8601)."),
    end: str | None = typer.Option(None, help="Last date (ISO-8601)."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow until it ends."),
    as_json: bool = typer.Option(False, "--json", help="Print the result JSON."),
) -> None:
    """Train a strategy's network and store a new model version."""
    config = _load(strategy)
    if not local:
        with api_client() as client, _api_errors():
            _sync_strategy(client, strategy, config)
            started = client.start_training(
                config.name, symbols=symbols or None, start_date=start, end_date=end
            )
            _after_start(client, started, follow, as_json, "training")
        return
    pipeline = load_compute("ktrdr.training.pipeline")
    with _progress_bar(f"training {config.name}") as bar:
        task = bar.add_task("train", total=100, message="")

        def report(progress) -> None:  # type: ignore[no-untyped-def]
            bar.update(task, completed=progress.percent, message=progress.message)

        try:
            result = pipeline.train_strategy(
                config,
                data_store(),
                settings().models_path,
                symbols=symbols or None,
                start=start,
                end=end,
                progress=report,
            )
        except (LookupError, ValueError) as error:
            error_console.print(f"[red]{error}[/]")
            raise typer.Exit(1) from error
    if as_json:
        print_json(result)
    else:
        console.print(training_table(result))


def backtest(
    strategy: str = typer.Argument(..., help="A name under strategies/ or a YAML path."),
    local: bool = typer.Option(False, "--local", help="Backtest in this process."),
    model: str | None = typer.Option(
        None, help="Model folder or id (strategy/1d_v2); default: the strategy's latest."
    ),
    symbol: str | None = typer.Option(None, help="Default: the strategy's first symbol."),
    start: str | None = typer.Option(None, help="First date; default: the model's test split."),
    end: str | None = typer.Option(None, help="Last date."),
    capital: float = typer.Option(100_000.0, help="Initial capital."),
    commission: float = typer.Option(0.001, help="Commission, fraction of notional per side."),
    slippage: float = typer.Option(0.0005, help="Slippage, fraction of price."),
    position_size: float = typer.Option(1.0, help="Fraction of equity per position."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow until it ends."),
    as_json: bool = typer.Option(False, "--json", help="Print the result JSON."),
) -> None:
    """Backtest a trained model of the strategy (out of sample unless dates are given)."""
    config = _load(strategy)
    if not local:
        with api_client() as client, _api_errors():
            _sync_strategy(client, strategy, config)
            started = client.start_backtest(
                config.name,
                model=model,
                symbol=symbol,
                start_date=start,
                end_date=end,
                initial_capital=capital,
                commission=commission,
                slippage=slippage,
                position_size=position_size,
            )
            _after_start(client, started, follow, as_json, "backtesting")
        return
    models_dir = settings().models_path
    try:
        info = (
            get_model(models_dir, model)
            if model
            else latest_model(models_dir, config.name, config.training_data.base_timeframe)
        )
    except (ModelNotFoundError, ValueError) as error:
        error_console.print(f"[red]{error}. Train it first: ktrdr train {strategy} --local[/]")
        raise typer.Exit(1) from error
    pipeline = load_compute("ktrdr.backtesting.pipeline")
    backtest_config = load_compute("ktrdr.backtesting.config")
    try:
        run_config = backtest_config.BacktestConfig(
            initial_capital=capital,
            commission=commission,
            slippage=slippage,
            position_size=position_size,
        )
        result = pipeline.backtest_model(
            Path(info.path),
            data_store(),
            symbol=symbol,
            start=start,
            end=end,
            config=run_config,
            decisions=config.decisions,
        )
    except (LookupError, ValueError) as error:
        error_console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from error
    if as_json:
        print_json(result)
        return
    for rendered in backtest_tables(result):
        console.print(rendered)
