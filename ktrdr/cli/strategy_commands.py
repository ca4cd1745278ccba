"""``ktrdr strategies``: list and validate strategy YAML."""

from __future__ import annotations

import typer

from ktrdr.cli.context import settings
from ktrdr.cli.output import console, print_json, read_text_file, table
from ktrdr.research.strategies import (
    StrategyError,
    list_strategies,
    resolve_strategy_path,
    validate_strategy_text,
)

app = typer.Typer(help="Strategies: list and validate.")


@app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Strategies in the strategies directory, valid or not."""
    found = list_strategies(settings().strategies_dir)
    if as_json:
        print_json(
            [
                {
                    "path": str(path),
                    "name": config.name if config else path.stem,
                    "valid": config is not None,
                    "issues": [str(issue) for issue in issues],
                }
                for path, config, issues in found
            ]
        )
        return
    rows = [
        [
            config.name if config else path.stem,
            config.version if config else "-",
            ", ".join(config.training_data.symbols) if config else "-",
            ", ".join(config.training_data.timeframes) if config else "-",
            "valid" if config else f"{len(issues)} problems",
        ]
        for path, config, issues in found
    ]
    console.print(table("Strategies", ["name", "version", "symbols", "timeframes", "status"], rows))


@app.command("validate")
def validate(
    strategy: str = typer.Argument(..., help="A name under strategies/ or a path."),
) -> None:
    """Report every problem with its YAML path; exits 1 when invalid."""
    path = resolve_strategy_path(strategy, settings().strategies_dir)
    config, issues = validate_strategy_text(read_text_file(path))
    if config is None:
        raise StrategyError(issues, source=str(path))
    console.print(f"[green]{path}: strategy {config.name!r} is valid[/]")
