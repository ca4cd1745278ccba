"""``ktrdr walkforward`` and ``ktrdr sweep``: research at scale, through the backend (a
research worker drives, children run on every free worker) or in this process (--local)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer
import yaml
from pydantic import BaseModel, ValidationError

from ktrdr.cli.compute_bridge import load_compute
from ktrdr.cli.context import api_client, data_store, settings
from ktrdr.cli.output import console, error_console, print_json, read_text_file, table
from ktrdr.cli.report_file import write_local_report
from ktrdr.cli.research_commands import (
    REPORT_HELP,
    _after_start,
    _limit_threads,
    _progress_bar,
    _sync_strategy,
)
from ktrdr.client import ApiClient
from ktrdr.core.api_models import OperationStarted
from ktrdr.core.enums import OperationType
from ktrdr.core.errors import InvalidInputError
from ktrdr.core.progress import CancelToken
from ktrdr.core.progress import Progress as JobProgress
from ktrdr.core.protocol import SweepParams, WalkForwardParams
from ktrdr.research.scale.space import check_space
from ktrdr.research.strategies import StrategyConfig, load_strategy, resolve_strategy_path
from ktrdr.research.strategies.bounded_yaml import load_bounded
from ktrdr.research.strategies.repository import save_strategy

ParamsT = TypeVar("ParamsT", bound=BaseModel)
FOLD_COLUMNS = ("total_return", "sharpe_ratio", "max_drawdown", "num_trades")


def _params(model: type[ParamsT], **values: Any) -> ParamsT:
    """The options as job parameters; a bad one is refused with its option's name."""
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as error:
        first = error.errors()[0]
        name = "--" + str(first["loc"][0]).replace("_", "-") if first["loc"] else "options"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInputError(f"{name}: {message}", field=name) from None


def _percent(value: Any) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def _number(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _start_on_backend(
    strategy: str,
    config: StrategyConfig,
    start: Callable[..., OperationStarted],
    params: BaseModel,
    kind: OperationType,
    printer: Callable[[dict[str, Any], bool], None],
    *,
    follow: bool,
    as_json: bool,
    report: Path | None,
) -> None:
    """Queue the job on the backend (``start``: an ApiClient start_* method) and say what
    was queued, or follow it to its result."""
    with api_client() as client:
        _sync_strategy(client, strategy, config)
        started = start(client, config.name, **params.model_dump(mode="json", exclude_none=True))
        _after_start(client, started, follow, as_json, kind, report, printer)


@contextmanager
def _local_run(title: str, task_name: str, strategy_text: str) -> Iterator[Any]:
    """The driver context of a --local run: its children (trainings, backtests) run in
    this process, never waiting between polls, and its progress moves the bar shown."""
    local_children = load_compute("ktrdr.compute.research.local_children")
    waiting = load_compute("ktrdr.compute.research.waiting")
    _limit_threads()
    cancel = CancelToken()
    with _progress_bar(title) as bar:
        task = bar.add_task(task_name, total=100, message="")

        def show(progress: JobProgress) -> None:
            bar.update(task, completed=progress.percent, message=progress.message)

        runner = local_children.LocalChildren(
            strategy_text, data_store(), settings().models_path, cancel
        )
        yield waiting.DriverContext(runner, cancel, show, poll_s=0.0)


def _print_walkforward(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    rows = [
        [
            row["fold"],
            f"{row['train']['start']} .. {row['train']['end']}",
            f"{row['test']['start']} .. {row['test']['end']}",
            _percent(row["metrics"].get("total_return")),
            _number(row["metrics"].get("sharpe_ratio")),
            _percent(row["metrics"].get("max_drawdown")),
            row["metrics"].get("num_trades"),
            _percent(row.get("benchmark_return")),
        ]
        for row in result["folds"]
    ]
    columns = ["fold", "train", "test", "return", "sharpe", "max dd", "trades", "buy & hold"]
    console.print(
        table(
            f"Walk-forward {result['strategy']} {result['symbol']}",
            columns,
            rows,
            whole={"train", "test"},
        )
    )
    stitched = result["stitched"]
    console.print(
        table(
            f"Stitched out of sample ({stitched['bars']} bars)",
            ["metric", "strategy", "buy & hold"],
            [
                [key, _number(value), _number(stitched["benchmark"].get(key))]
                for key, value in stitched["metrics"].items()
            ],
        )
    )


def _print_sweep(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    rows = [
        [
            t["number"],
            t["state"],
            _number(t["value"]),
            ", ".join(f"{k}={v}" for k, v in t["values"].items()),
            t.get("error") or "",
        ]
        for t in result["trials"]
    ]
    counts = result["counts"]
    title = (
        f"Sweep {result['strategy']} ({result['objective']}): {counts['complete']} complete, "
        f"{counts['pruned']} pruned, {counts['fail']} failed"
    )
    console.print(table(title, ["trial", "state", result["objective"], "values", "note"], rows))
    best = result.get("best")
    if best:
        console.print(
            f"best: trial {best['number']} ({_number(best['value'])} on validation), "
            f"saved as strategy [bold]{best['strategy_name']}[/]"
        )
        test = best.get("test_backtest") or {}
        metrics = test.get("metrics") or {}
        console.print(
            f"on the test split: return {_percent(metrics.get('total_return'))}, "
            f"sharpe {_number(metrics.get('sharpe_ratio'))}"
        )


def walkforward(
    strategy: str = typer.Argument(..., help="A name under strategies/ or a YAML path."),
    folds: int | None = typer.Option(None, "--folds", help="Number of folds."),
    train_bars: int | None = typer.Option(None, "--train-bars", help="Bars per training window."),
    test_bars: int | None = typer.Option(None, "--test-bars", help="Bars per test window."),
    mode: str = typer.Option("rolling", "--mode", help="rolling or anchored."),
    symbol: str | None = typer.Option(None, help="Default: the strategy's first symbol."),
    start: str | None = typer.Option(None, help="First date of the data (ISO-8601)."),
    end: str | None = typer.Option(None, help="Last date of the data."),
    max_parallel: int = typer.Option(4, "--max-parallel", help="Folds in flight at once."),
    local: bool = typer.Option(False, "--local", help="Run every fold in this process."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow until it ends."),
    as_json: bool = typer.Option(False, "--json", help="Print the result JSON."),
    report: Path | None = typer.Option(None, "--report", help=REPORT_HELP),
) -> None:
    """Walk-forward: train on each fold's window, backtest on the bars after it, stitch."""
    config = load_strategy(strategy, settings().strategies_dir)
    params = _params(
        WalkForwardParams,
        folds=folds,
        train_bars=train_bars,
        test_bars=test_bars,
        mode=mode,
        symbol=symbol,
        start_date=start,
        end_date=end,
        max_parallel=max_parallel,
    )
    if not local:
        _start_on_backend(
            strategy,
            config,
            ApiClient.start_walkforward,
            params,
            OperationType.WALKFORWARD,
            _print_walkforward,
            follow=follow,
            as_json=as_json,
            report=report,
        )
        return
    text = resolve_strategy_path(strategy, settings().strategies_dir).read_text(encoding="utf-8")
    driver = load_compute("ktrdr.compute.research.walkforward")
    with _local_run(f"walk-forward {config.name}", "walkforward", text) as ctx:
        result = driver.run_walkforward(config, params, data_store(), ctx)
    _print_walkforward(result, as_json)
    if report is not None:
        write_local_report(report, OperationType.WALKFORWARD, result)


def read_space(path: Path, strategy_text: str) -> dict[str, Any]:
    """The ``params`` of a space file, checked against the strategy (errors name the file)."""
    source = path.name
    try:
        document = load_bounded(read_text_file(path))
    except yaml.YAMLError as error:
        raise InvalidInputError(f"{source}: invalid YAML: {error}", field="--space") from None
    if not isinstance(document, dict) or not isinstance(document.get("params"), dict):
        raise InvalidInputError(
            f"{source}: expected a mapping with 'params' (strategy path -> range)",
            field="--space",
        )
    space = document["params"]
    check_space(space, load_bounded(strategy_text), source=source)
    return space


def sweep(
    strategy: str = typer.Argument(..., help="A name under strategies/ or a YAML path."),
    space: Path = typer.Option(..., "--space", help="The space file (YAML: params: ...)."),
    trials: int = typer.Option(20, "--trials", help="Trials this sweep runs."),
    objective: str = typer.Option("sharpe_ratio", "--objective", help="A backtest metric."),
    parallel: int = typer.Option(2, "--parallel", help="Trials in flight at once."),
    sampler: str = typer.Option("tpe", "--sampler", help="tpe or random."),
    seed: int | None = typer.Option(None, "--seed", help="Sampler seed."),
    pruning: bool = typer.Option(True, "--pruning/--no-pruning", help="Median pruner."),
    resume: str | None = typer.Option(None, "--resume", help="Continue this sweep's study."),
    local: bool = typer.Option(False, "--local", help="Run every trial in this process."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow until it ends."),
    as_json: bool = typer.Option(False, "--json", help="Print the result JSON."),
    report: Path | None = typer.Option(None, "--report", help=REPORT_HELP),
) -> None:
    """Sweep strategy fields with Optuna; scored on validation, the best tested once."""
    config = load_strategy(strategy, settings().strategies_dir)
    text = resolve_strategy_path(strategy, settings().strategies_dir).read_text(encoding="utf-8")
    space_params = read_space(space, text)  # SpaceError lists every problem, by path
    params = _params(
        SweepParams,
        space=space_params,
        trials=trials,
        objective=objective,
        parallel=parallel,
        sampler=sampler,
        seed=seed,
        pruning=pruning,
        resume=resume,
    )
    if not local:
        _start_on_backend(
            strategy,
            config,
            ApiClient.start_sweep,
            params,
            OperationType.SWEEP,
            _print_sweep,
            follow=follow,
            as_json=as_json,
            report=report,
        )
        return
    database = settings().database
    # Imported here: SQLAlchemy and alembic cost every other command a quarter second.
    from ktrdr.control.db.migrate import upgrade_to_head

    upgrade_to_head(database)  # the study's tables go beside ktrdr's, in its own database
    sweep_module = load_compute("ktrdr.compute.research.sweep")
    operation_id = uuid.uuid4().hex
    with _local_run(f"sweep {config.name}", "sweep", text) as ctx:
        driver = sweep_module.SweepDriver(operation_id, config, text, params, database, ctx)
        result = driver.run()
    best = result.get("best")
    if best:
        save_strategy(settings().strategies_dir, best["strategy_name"], best["strategy_yaml"])
    study = params.resume or operation_id
    # On stderr: stdout stays the result (--json).
    error_console.print(f"study {result['study_name']} (continue it with --resume {study})")
    _print_sweep(result, as_json)
    if report is not None:
        write_local_report(report, OperationType.SWEEP, result)
