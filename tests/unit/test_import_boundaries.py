"""The planes' import rules: import-linter's contracts over the whole graph, and what
importing a module really loads at run time (which no static check can see).

The contracts in pyproject.toml cover every control-plane module, lazy imports included;
the run-time probe covers the modules the seed names and each process's entry module.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT

COMPUTE = ("torch", "numpy", "pandas", "talib", "sklearn")
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
# Importing each of these, in this order in one process, must load none of COMPUTE.
TORCH_FREE = [
    "ktrdr.core.settings",
    "ktrdr.core.protocol",
    "ktrdr.research.strategies",
    "ktrdr.research.indicator_catalogue",
    "ktrdr.research.model_registry",
    "ktrdr.research.data.store",
    "ktrdr.control.operations.store",
    "ktrdr.control.db.migrate",
    "ktrdr.api.main",  # the seed's check: the backend app loads no torch
    "ktrdr.workers.runtime",
    "ktrdr.workers.ml_check",
    "ktrdr.workers.entry",
    "ktrdr.client",
    "ktrdr.cli.app",
    "ktrdr.infra.sandbox.app",
    "ktrdr.mcp.server",
    "ktrdr.mcp.entry",
    "ktrdr.reports",
    "ktrdr.control.api.routers.reports",
]
# The seed's model modules: numpy is fine, torch only once weights are touched.
TORCH_LAZY = [
    "ktrdr.training.model_storage",
    "ktrdr.backtesting.model_loader",
    "ktrdr.compute.training.model_storage",
    "ktrdr.compute.backtesting.model_loader",
    "ktrdr.training",
]


def loaded_in_order(modules: list[str]) -> dict[str, list[str]]:
    """module -> the COMPUTE libraries loaded once it (and those before it) imported."""
    probe = textwrap.dedent(
        f"""
        import importlib, json, sys
        seen = {{}}
        for name in {modules!r}:
            importlib.import_module(name)
            seen[name] = [m for m in {COMPUTE!r} if m in sys.modules]
        print(json.dumps(seen))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    return json.loads(out)


def test_torch_free_modules_load_no_compute_library() -> None:
    loaded = loaded_in_order(TORCH_FREE)
    assert list(loaded) == TORCH_FREE
    assert {name: libs for name, libs in loaded.items() if libs} == {}


def test_model_modules_import_torch_only_when_used() -> None:
    for module in TORCH_LAZY:  # one process each: an earlier import must not hide one
        assert "torch" not in loaded_in_order([module])[module], module


def test_the_probe_detects_a_compute_import() -> None:
    # Guards the tests above against passing vacuously.
    module = "ktrdr.compute.features.labels"
    assert "numpy" in loaded_in_order([module])[module]


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
    )


def test_import_linter_contracts_are_kept() -> None:
    result = lint_imports(REPO_ROOT)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Planes are layered KEPT" in result.stdout
    assert "Torch-free planes never import the compute stack KEPT" in result.stdout


@pytest.mark.parametrize(
    ("module", "statement", "contract", "chain"),
    [
        (
            "research/upward.py",
            "import ktrdr.control.api.app\n",
            "Planes are layered BROKEN",
            "ktrdr.research.upward -> ktrdr.control.api.app",
        ),
        (
            "control/lazy.py",
            "def later():\n    import numpy\n",
            "Torch-free planes never import the compute stack BROKEN",
            "ktrdr.control.lazy -> numpy",
        ),
    ],
    ids=["upward-import", "lazy-numpy"],
)
def test_the_contracts_catch_a_violation(
    tmp_path: Path, module: str, statement: str, contract: str, chain: str
) -> None:
    # The same contracts over a copy of the tree with one violation added.
    shutil.copytree(REPO_ROOT / "ktrdr", tmp_path / "ktrdr")
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "ktrdr" / module).write_text(statement)
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert contract in result.stdout
    assert chain in result.stdout
