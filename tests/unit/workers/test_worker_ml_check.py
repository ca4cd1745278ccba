"""The compute-stack check at worker start, and hardware detection."""

from __future__ import annotations

import sys

import pytest
import torch

from ktrdr.compute.device import describe_device
from ktrdr.workers.ml_check import validate_ml_dependencies


def test_a_complete_stack_passes() -> None:
    validate_ml_dependencies("training")


@pytest.mark.parametrize("module", ["torch", "numpy", "pandas", "talib"])
def test_a_missing_module_exits_3_with_one_line(
    module: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import <module>` fail
    with pytest.raises(SystemExit) as exit_info:
        validate_ml_dependencies("backtesting")
    assert exit_info.value.code == 3
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("ktrdr backtesting worker: the ML stack is missing")
    assert f"no module named '{module}'" in lines[0]
    assert "ktrdr-worker-cpu" in lines[0]
    assert "ktrdr-worker-gpu" in lines[0]


def test_capabilities_describe_this_machine() -> None:
    capabilities = describe_device()
    assert capabilities.torch_version == torch.__version__
    assert capabilities.cuda_version == torch.version.cuda
    assert capabilities.gpu is torch.cuda.is_available()
    if not capabilities.gpu:
        assert capabilities.device in {"cpu", "mps"}
