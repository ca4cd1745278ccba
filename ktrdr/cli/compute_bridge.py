"""Reach the compute stack from the CLI's ``--local`` mode.

The CLI is control plane: its import graph must stay free of torch, numpy and pandas
(the backend image has none of them). ``--local`` runs research in this process, so
the compute modules are looked up by name only when such a command runs; without the
``ml`` extra the user gets one clear line instead of a traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import typer

from ktrdr.cli.output import error_console

_COMPUTE_PACKAGES = {"torch", "numpy", "pandas", "talib"}


def load_compute(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        missing = (error.name or "").split(".")[0]
        if missing not in _COMPUTE_PACKAGES:
            raise
        error_console.print(
            f"[red]--local needs the compute stack ({missing} is not installed).[/] "
            "Install it with `uv sync --extra ml` (or `make setup`), or run without --local "
            "against a backend.",
            soft_wrap=True,
        )
        raise typer.Exit(2) from error
