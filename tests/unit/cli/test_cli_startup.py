"""The command line starts light: no database layer or compute stack at import."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "alembic", "torch", "numpy", "pandas", "talib", "optuna")


def test_loading_the_commands_imports_no_database_layer_or_compute_stack() -> None:
    code = f"import sys, ktrdr.cli.app; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""  # each comes in with the command that needs it
