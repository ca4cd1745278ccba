"""The ``ktrdr`` command tree (typer + rich, from the ``cli`` extra)."""

from __future__ import annotations

from ktrdr.cli import (
    data_commands,
    mcp_command,
    model_commands,
    ops_commands,
    research_commands,
    scale_commands,
    stack_commands,
    strategy_commands,
)
from ktrdr.cli.root import root_app, version_option
from ktrdr.core.logging_setup import configure_logging
from ktrdr.core.settings import get_settings

app = root_app("ktrdr", "Neuro-fuzzy trading strategy research.")
app.add_typer(data_commands.app, name="data")
app.add_typer(strategy_commands.app, name="strategies")
app.add_typer(model_commands.app, name="models")
app.add_typer(ops_commands.app, name="ops")
app.add_typer(stack_commands.worker_app, name="worker")
app.command()(research_commands.train)
app.command()(research_commands.backtest)
app.command()(scale_commands.walkforward)
app.command()(scale_commands.sweep)
app.command()(ops_commands.workers)
app.command()(stack_commands.up)
app.command()(stack_commands.down)
app.command()(stack_commands.serve)
app.command()(mcp_command.mcp)


@app.callback()
def _root(version: bool = version_option("ktrdr {version}")) -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
