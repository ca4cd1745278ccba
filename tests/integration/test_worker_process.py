"""Worker processes as deployed: ``python -m ktrdr.workers TYPE``, talking real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from tests.support.fake_backend import FakeBackend, free_port, wait_for
from tests.support.http import HTTP
from tests.support.paths import REPO_ROOT

STRATEGY_YAML = (REPO_ROOT / "strategies" / "stoch_adx_breakout.yaml").read_text()

WORKER = (sys.executable, "-m", "ktrdr.workers")

pytestmark = pytest.mark.integration


@pytest.fixture
def backend() -> Iterator[FakeBackend]:
    with FakeBackend() as fake:
        yield fake


def worker_env(backend: FakeBackend, home: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KTRDR_")}
    env.update(
        KTRDR_HOME=str(home),
        KTRDR_API_URL=backend.url,
        KTRDR_WORKER_PORT=str(port),
        KTRDR_WORKER_HEARTBEAT_S="0.2",
        KTRDR_WORKER_SHUTDOWN_GRACE_S="5",
        KTRDR_LOG_FORMAT="json",
    )
    return env


def start_process(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:  # a file, not a pipe: nobody has to drain it
        return subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )


def terminate(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def test_backtest_worker_registers_runs_and_stops_gracefully(
    backend: FakeBackend, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "worker.log"
    process = start_process(
        [*WORKER, "backtesting"], worker_env(backend, tmp_path / "home", port), log
    )
    try:
        registration = wait_for(lambda: backend.calls("register"), timeout_s=60)[0].body
        assert registration["worker_id"] == f"backtesting-{socket.gethostname()}-{port}"
        assert registration["worker_type"] == "backtesting"
        assert registration["endpoint_url"] == f"http://127.0.0.1:{port}"
        capabilities = registration["capabilities"]
        assert capabilities["torch_version"] == torch.__version__
        assert capabilities["gpu"] is torch.cuda.is_available()
        wait_for(lambda: backend.calls("heartbeat"))

        worker = f"http://127.0.0.1:{port}"
        assert HTTP.get(f"{worker}/health").json()["status"] == "idle"
        # A dispatch over HTTP runs the real job; with no trained model it fails clearly.
        attempt = "b" * 32
        backend.expect_operation("op-1", registration["worker_id"], attempt)
        dispatch = {
            "operation_id": "op-1",
            "operation_type": "backtesting",
            "attempt": attempt,
            "strategy_yaml": STRATEGY_YAML,
            "params": {},
        }
        assert HTTP.post(f"{worker}/operations", json=dispatch).status_code == 202
        finish = wait_for(lambda: backend.calls("finish"), timeout_s=30)[0].body
        assert finish["status"] == "failed"
        assert finish["error"].startswith("ModelNotFoundError: no trained model")
    finally:
        code = terminate(process)
    output = log.read_text()
    assert "Application shutdown complete" in output, output
    assert [c.target for c in backend.calls("deregister")] == [registration["worker_id"]]
    # A graceful SIGTERM stop is a clean exit (uvicorn alone would re-raise the signal).
    assert code == 0, output


def test_training_worker_module_exits_0_on_sigterm(backend: FakeBackend, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "worker.log"
    process = start_process(
        [*WORKER, "training"],
        worker_env(backend, tmp_path / "home", port),
        log,
    )
    try:
        registration = wait_for(lambda: backend.calls("register"), timeout_s=60)[0].body
        assert registration["worker_type"] == "training"
        assert registration["endpoint_url"] == f"http://127.0.0.1:{port}"
        assert HTTP.get(f"http://127.0.0.1:{port}/health").json()["status"] == "idle"
    finally:
        code = terminate(process)
    assert code == 0, log.read_text()
    assert [c.target for c in backend.calls("deregister")] == [registration["worker_id"]]


@pytest.mark.parametrize(
    ("worker_type", "missing"),
    [("training", "torch"), ("backtesting", "torch"), ("research", "optuna")],
)
def test_a_worker_without_torch_exits_3_with_one_line(worker_type: str, missing: str) -> None:
    probe = (
        f"import sys; sys.modules[{missing!r}] = None; from ktrdr.workers.entry import main; "
        f"sys.exit(main([{worker_type!r}]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"ktrdr {worker_type} worker: the ML stack is missing")
    assert f"no module named {missing!r}" in lines[0]
    assert "ktrdr-worker-cpu" in lines[0]
    assert "ktrdr-worker-gpu" in lines[0]


@pytest.mark.parametrize("arguments", [[], ["cooking"], ["training", "extra"]])
def test_the_worker_module_needs_one_worker_type(arguments: list[str]) -> None:
    result = subprocess.run(
        [*WORKER, *arguments], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "usage: python -m ktrdr.workers backtesting|training|research"
