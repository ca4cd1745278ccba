"""The control plane loads no compute library, and torch is only loaded when used."""

from __future__ import annotations

import subprocess
import sys

import pytest

COMPUTE = ("torch", "numpy", "pandas", "talib", "sklearn")


def loaded_after(statement: str) -> set[str]:
    probe = f"import sys; {statement}; print(','.join(m for m in {COMPUTE!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout.strip()
    return set(filter(None, out.split(",")))


@pytest.mark.parametrize(
    "module",
    [
        "ktrdr.compute.training.model_storage",
        "ktrdr.compute.backtesting.model_loader",
        "ktrdr.training",
    ],
)
def test_model_modules_do_not_load_torch(module: str) -> None:
    assert "torch" not in loaded_after(f"import {module}")


@pytest.mark.parametrize(
    "module",
    [
        "ktrdr.research.strategies.schema",
        "ktrdr.research.strategies",
        "ktrdr.research.indicator_catalogue",
        "ktrdr.research.model_registry",
        "ktrdr.core.settings",
        "ktrdr.cli.app",
        "ktrdr.reports",
        "ktrdr.control.api.routers.reports",
    ],
)
def test_control_plane_modules_load_no_compute_library(module: str) -> None:
    assert loaded_after(f"import {module}") == set()


def test_the_probe_detects_a_compute_import() -> None:
    # Guards the test above against passing vacuously.
    assert "numpy" in loaded_after("import ktrdr.compute.features.labels")
