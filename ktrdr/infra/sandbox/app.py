"""The ``kinfra`` command tree (typer + rich, from the ``cli`` extra)."""

from __future__ import annotations

import typer

from ktrdr.cli.errors import KtrdrGroup
from ktrdr.cli.version import version_callback
from ktrdr.infra.sandbox import sandbox_commands

app = typer.Typer(
    cls=KtrdrGroup,
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
