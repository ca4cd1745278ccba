"""The ``--version`` option shared by the ``ktrdr`` and ``kinfra`` commands."""

from __future__ import annotations

from collections.abc import Callable

import typer

from ktrdr import __version__


def version_callback(label: str) -> Callable[[bool], None]:
    """A typer callback printing ``<label> <version>`` and exiting when the flag is set."""

    def show(value: bool) -> None:
        if value:
            typer.echo(label.format(version=__version__))
            raise typer.Exit()

    return show
