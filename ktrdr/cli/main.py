"""Entry points of the ``ktrdr`` and ``kinfra`` commands.

The command line needs the ``cli`` extra (typer, rich). Server images install only the
core dependencies; there a command says what is missing instead of a traceback.
"""

from __future__ import annotations

import importlib
import sys


def launch(program: str, app_module: str) -> None:
    """Import ``app_module`` (a typer application named ``app``) and run it."""
    try:
        app = importlib.import_module(app_module).app
    except ModuleNotFoundError as error:
        if error.name not in {"typer", "rich", "click"}:
            raise
        print(
            f"{program}: the command line needs the cli extra ({error.name} is not installed): "
            "uv sync --extra cli",
            file=sys.stderr,
        )
        raise SystemExit(2) from error
    app()


def main() -> None:
    launch("ktrdr", "ktrdr.cli.app")


if __name__ == "__main__":
    main()
