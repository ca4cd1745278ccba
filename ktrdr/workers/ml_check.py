"""Fail fast, in one line, when a worker is started without the compute stack.

Imported before any compute module, so it must not import them at module level.
"""

from __future__ import annotations

import importlib
import sys

REQUIRED_MODULES = ("torch", "numpy", "pandas", "talib")
EXIT_MISSING_ML = 3


def _describe(module: str, error: BaseException) -> str:
    if isinstance(error, ModuleNotFoundError):
        missing = (error.name or module).split(".")[0]
        return f"no module named {missing!r}"
    # Installed but broken (e.g. a missing shared library): keep the first line only.
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return f"{module} failed to import: {first_line}"


def validate_ml_dependencies(worker_type: str) -> None:
    """Exit with status 3 and one stderr line unless torch, numpy, pandas and talib import."""
    # A research worker drives sweeps with Optuna as well.
    extra = ("optuna",) if worker_type == "research" else ()
    for module in (*REQUIRED_MODULES, *extra):
        try:
            importlib.import_module(module)
        except (ImportError, OSError) as error:
            sys.stderr.write(
                f"ktrdr {worker_type} worker: the ML stack is missing "
                f"({_describe(module, error)}). Use the ktrdr-worker-cpu or ktrdr-worker-gpu "
                "image, or install the ml extra (uv sync --extra ml).\n"
            )
            sys.stderr.flush()
            raise SystemExit(EXIT_MISSING_ML) from None


if __name__ == "__main__":  # python -m ktrdr.workers.ml_check: the image checks run it
    validate_ml_dependencies("check")
    print("ML stack imports: " + ", ".join(REQUIRED_MODULES))
