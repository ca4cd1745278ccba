"""Entry point of the ``kinfra`` command.

The command line needs the ``cli`` extra (typer, rich). Server images install only the
core dependencies; there the command says what is missing instead of a traceback.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from ktrdr.cli.kinfra.app import app
    except ModuleNotFoundError as error:
        if error.name not in {"typer", "rich", "click"}:
            raise
        print(
            f"kinfra: the command line needs the cli extra ({error.name} is not installed): "
            "uv sync --extra cli",
            file=sys.stderr,
        )
        raise SystemExit(2) from error
    app()


if __name__ == "__main__":
    main()
