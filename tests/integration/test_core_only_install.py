"""The backend image's environment: the project installed without extras still serves
every endpoint, and a worker started there refuses to run."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.fake_backend import free_port, wait_for
from tests.support.http import HTTP
from tests.support.stack import REPO_ROOT, canary_strategy

pytestmark = pytest.mark.integration
API = "/api/v1"


def uv() -> list[str]:
    command = os.environ.get("UV") or shutil.which("uv")
    if not command:
        return [sys.executable, "-m", "uv"]
    return shlex.split(command)


def make_venv(root: Path, *extras: str) -> Path:
    """The project and its locked dependencies, with only the given extras."""
    requirements = root / "requirements.txt"
    run = {"check": True, "cwd": REPO_ROOT, "capture_output": True, "text": True}
    extra_flags = [flag for extra in extras for flag in ("--extra", extra)]
    exported = subprocess.run(
        [
            *uv(),
            "export",
            "--locked",
            "--no-default-groups",
            "--no-hashes",
            "--no-emit-project",
            *extra_flags,
        ],
        **run,
    ).stdout
    requirements.write_text(exported)
    venv = root / "venv"
    subprocess.run([*uv(), "venv", "--python", sys.executable, str(venv)], **run)
    python = str(venv / "bin" / "python")
    subprocess.run([*uv(), "pip", "install", "--python", python, "-r", str(requirements)], **run)
    subprocess.run(
        [*uv(), "pip", "install", "--python", python, "--no-deps", str(REPO_ROOT)], **run
    )
    return venv


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the backend image installs: core dependencies, no extras."""
    return make_venv(tmp_path_factory.mktemp("core"))


@pytest.fixture(scope="module")
def cli_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A client machine: the command line without the compute stack."""
    return make_venv(tmp_path_factory.mktemp("cli"), "cli")


def test_core_install_has_no_compute_stack(core_venv: Path) -> None:
    probe = "import importlib.util as u; print([m for m in ('torch','numpy','pandas','talib','sklearn') if u.find_spec(m)])"  # noqa: E501
    out = subprocess.run(
        [core_venv / "bin" / "python", "-c", probe], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert out == "[]"


@pytest.fixture
def core_backend(core_venv: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    home = tmp_path / "home"
    strategies = home / "strategies"
    strategies.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "strategies" / "rsi_macd_trend.yaml", strategies)
    port = free_port()
    env = {**os.environ, "KTRDR_HOME": str(home), "KTRDR_STRATEGIES_DIR": str(strategies)}
    process = subprocess.Popen(
        [core_venv / "bin" / "python", "-m", "uvicorn", "ktrdr.api.main:app", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return HTTP.get(f"{url}{API}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return process.poll() is not None  # exited: fail below, not by timeout

    wait_for(up, timeout_s=60)
    assert process.poll() is None, "the backend exited in the core-only environment"
    yield url, home
    process.terminate()
    process.wait(timeout=30)


def test_backend_serves_every_endpoint_without_extras(
    core_backend: tuple[str, Path], tmp_path: Path
) -> None:
    url, home = core_backend
    # A model trained elsewhere (this environment has torch) is listed by the core backend.
    from ktrdr.compute.training.model_storage import save_model

    save_model(
        home / "models",
        strategy={"name": "rsi_macd_trend"},
        timeframe="1d",
        weights={},
        features={"names": []},
        metrics={"test": {}},
        metadata={"seed": 1},
    )
    with httpx.Client(base_url=f"{url}{API}", timeout=10) as client:
        assert client.get("/health").json()["database"] == "ok"
        assert client.get("/docs").status_code == 200
        assert client.get(f"{url}/metrics").status_code == 200
        assert len(client.get("/indicators").json()) >= 14
        assert any(s["symbol"] == "AAPL" for s in client.get("/data/symbols").json())
        assert client.get("/data/AAPL/1d", params={"limit": 5}).json()["count"] == 5
        assert client.get("/data/AAPL/1d/range").status_code == 200
        csv = "timestamp,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,10\n"
        assert client.post("/data/CORE/1d", content=csv).status_code == 201
        bad = client.post("/data/CORE2/1d", content="timestamp,open\nx,1\n")
        assert bad.status_code == 422
        assert client.get("/strategies").json()[0]["valid"] is True
        validated = client.post("/strategies/validate", content=canary_strategy()).json()
        assert validated["valid"] is True
        upload = client.put("/strategies/canary_smoke", content=canary_strategy())
        assert upload.status_code == 201
        assert [m["id"] for m in client.get("/models").json()] == ["rsi_macd_trend/1d_v1"]
        assert client.get("/models/rsi_macd_trend/1d_v1").status_code == 200
        training = client.post("/trainings/start", json={"strategy_name": "canary_smoke"}).json()
        backtest = client.post("/backtests/start", json={"strategy_name": "canary_smoke"}).json()
        assert training["status"] == backtest["status"] == "pending"
        page = client.get("/operations").json()
        assert page["total"] == 2
        assert client.delete(f"/operations/{training['operation_id']}").json()["status"] == (
            "cancelled"
        )
        assert client.get("/workers").json() == []


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "ktrdr.workers", "training"],
        ["-m", "ktrdr.workers", "backtesting"],
        ["-m", "ktrdr.workers", "research"],
    ],
    ids=["training", "backtesting", "research"],
)
def test_a_worker_on_the_backend_image_exits_with_a_clear_line(
    core_venv: Path, command: list[str]
) -> None:
    result = subprocess.run(
        [core_venv / "bin" / "python", *command],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert "ktrdr-worker-cpu or ktrdr-worker-gpu" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_command_line_on_a_server_image_says_what_to_install(core_venv: Path) -> None:
    result = subprocess.run(
        [core_venv / "bin" / "ktrdr", "workers"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "uv sync --extra cli" in result.stderr


def test_a_cli_worker_start_without_the_ml_stack_exits_clearly(cli_venv: Path) -> None:
    result = subprocess.run(
        [cli_venv / "bin" / "ktrdr", "worker", "start", "--type", "training"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert "ktrdr-worker-cpu or ktrdr-worker-gpu" in result.stderr


def test_local_training_without_the_ml_stack_says_what_to_install(cli_venv: Path) -> None:
    result = subprocess.run(
        [cli_venv / "bin" / "ktrdr", "train", "rsi_macd_trend", "--local"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert "uv sync --extra ml" in result.stderr


def test_the_mcp_server_without_the_mcp_extra_says_what_to_install(core_venv: Path) -> None:
    result = subprocess.run(
        [core_venv / "bin" / "python", "-m", "ktrdr.mcp"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "uv sync --extra mcp" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
