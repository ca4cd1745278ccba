"""The ``kinfra`` command tree (typer + rich, from the ``cli`` extra)."""

from __future__ import annotations

import typer

from ktrdr.cli.kinfra import sandbox_commands
from ktrdr.cli.version import version_callback

app = typer.Typer(
    name="kinfra",
    help="ktrdr infrastructure: docker compose sandboxes of the stack.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(sandbox_commands.app, name="sandbox", no_args_is_help=True)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=version_callback("kinfra (ktrdr {version})"),
        is_eager=True,
        help="Print the version.",
    ),
) -> None:
    """ktrdr infrastructure commands."""
