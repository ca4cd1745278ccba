"""What the ``ktrdr`` and ``kinfra`` command trees share: their root and ``--version``."""

from __future__ import annotations

from typing import Any

import typer

from ktrdr import __version__
from ktrdr.cli.errors import KtrdrGroup


def root_app(name: str, help_text: str) -> typer.Typer:
    """A command tree whose every command runs under the CLI's one error handler."""
    return typer.Typer(
        cls=KtrdrGroup,
        name=name,
        help=help_text,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )


def version_option(label: str) -> Any:
    """``--version``: prints ``label`` (``{version}`` filled in) and exits."""

    def show(value: bool) -> None:
        if value:
            typer.echo(label.format(version=__version__))
            raise typer.Exit()

    return typer.Option(False, "--version", callback=show, is_eager=True, help="Print the version.")
