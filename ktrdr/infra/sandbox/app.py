"""The ``kinfra`` command tree (typer + rich, from the ``cli`` extra)."""

from __future__ import annotations

from ktrdr.cli.root import root_app, version_option
from ktrdr.infra.sandbox import sandbox_commands

app = root_app("kinfra", "ktrdr infrastructure: docker compose sandboxes of the stack.")
app.add_typer(sandbox_commands.app, name="sandbox", no_args_is_help=True)


@app.callback()
def _root(version: bool = version_option("kinfra (ktrdr {version})")) -> None:
    """ktrdr infrastructure commands."""
