"""Every row of the README's configuration table does what the table says.

The table is read from README.md; each test below names the variables it proves with
``@covers``, and the first test fails if a documented variable has no test, if a test
covers an undocumented one, or if a setting is missing from the table. Defaults are
compared with the Settings class itself.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ktrdr.cli.app import app as cli_app
from ktrdr.control.api.app import create_app
from ktrdr.control.orchestration.registry import WorkerRegistry
from ktrdr.control.orchestration.supervisor import Supervisor
from ktrdr.control.orchestration.worker_client import WorkerCallError
from ktrdr.core.enums import WorkerType
from ktrdr.core.logging_setup import configure_logging, get_logger
from ktrdr.core.protocol import WORKER_SECRET_HEADER, WorkerRegistration
from ktrdr.core.settings import DEFAULT_WORKER_NETWORKS, Settings, get_settings
from ktrdr.workers.runtime import worker_identity
from tests.support import ops
from tests.support.fake_backend import FakeBackend, free_port, wait_for
from tests.support.http import HTTP, answers_ok
from tests.support.paths import REPO_ROOT, STRATEGIES_DIR
from tests.support.stack import Stack, canary_strategy

pytestmark = pytest.mark.integration
F = TypeVar("F", bound=Callable[..., Any])
COVERED: set[str] = set()
CSV = "timestamp,open,high,low,close,volume\n2024-01-02,10,11,9,10.5,100\n"


def covers(*variables: str) -> Callable[[F], F]:
    COVERED.update(variables)
    return lambda test: test


def readme_rows() -> dict[str, str]:
    """variable -> its default cell, from the README's configuration table."""
    text = (REPO_ROOT / "README.md").read_text()
    table = text.split("### Configuration", 1)[1].split("\n\n", 2)[1]
    rows: dict[str, str] = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        names = re.findall(r"`(KTRDR_[A-Z_]+)`", cells[0])
        defaults = [d.strip() for d in cells[1].split(",")] if len(names) > 1 else [cells[1]]
        if len(defaults) == 1:  # one default cell for every variable of the row
            defaults *= len(names)
        rows.update(zip(names, defaults, strict=True))
    return rows


def test_the_table_documents_every_setting_and_each_row_has_a_test() -> None:
    rows = readme_rows()
    settings_vars = {f"KTRDR_{name.upper()}" for name in Settings.model_fields}
    assert set(rows) == settings_vars  # every setting documented, nothing extra
    assert set(rows) == COVERED  # every documented variable proven below


def test_the_documented_defaults_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("KTRDR_"):
            monkeypatch.delenv(name)
    defaults = Settings()
    rows = readme_rows()
    for variable, cell in rows.items():
        value = getattr(defaults, variable.removeprefix("KTRDR_").lower())
        shown = cell.strip("`")
        if shown == "unset":
            assert value is None, variable
        elif re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", shown):
            assert float(value) == float(shown), variable
        elif shown.endswith(" MiB"):
            assert value == int(shown.removesuffix(" MiB")) * 1024 * 1024, variable
        elif variable == "KTRDR_WORKER_NETWORKS":
            assert shown == "loopback and private ranges"
            assert value == DEFAULT_WORKER_NETWORKS
        elif variable == "KTRDR_HOME":
            assert value == Path.home() / ".ktrdr"
        elif shown.startswith("$KTRDR_HOME/"):
            assert value == defaults.home / shown.removeprefix("$KTRDR_HOME/"), variable
        elif variable == "KTRDR_DATABASE_URL":
            assert value == f"sqlite:///{defaults.data_path / 'ktrdr.db'}"
        elif variable == "KTRDR_WORKER_PORT":
            assert value is None  # "5003 / 5004 / 5005": the worker type's default
            assert defaults.worker_port_for(WorkerType.BACKTESTING) == 5003
            assert defaults.worker_port_for(WorkerType.TRAINING) == 5004
            assert defaults.worker_port_for(WorkerType.RESEARCH) == 5005
        elif shown == "derived":
            assert value is None, variable
        elif variable == "KTRDR_STRATEGIES_DIR":
            assert value == Path("strategies")
        else:
            assert str(value) == shown, variable


# -- folders ----------------------------------------------------------------------------


@covers("KTRDR_HOME", "KTRDR_DATA_DIR", "KTRDR_MODELS_DIR", "KTRDR_STRATEGIES_DIR")
def test_the_folders_are_where_the_variables_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, data, models, strategies = (tmp_path / n for n in ("home", "d", "m", "s"))
    monkeypatch.setenv("KTRDR_HOME", str(home))
    assert Settings().data_path == home / "data"  # HOME moves every unset folder
    assert Settings().models_path == home / "models"
    monkeypatch.setenv("KTRDR_DATA_DIR", str(data))
    monkeypatch.setenv("KTRDR_MODELS_DIR", str(models))
    monkeypatch.setenv("KTRDR_STRATEGIES_DIR", str(strategies))
    strategies.mkdir()
    text = canary_strategy("where_am_i")
    (strategies / "where_am_i.yaml").write_text(text)
    version = models / "where_am_i" / "1d_v1"
    version.mkdir(parents=True)
    (version / "metadata.json").write_text(json.dumps({"seed": 1}))
    csv = tmp_path / "in.csv"
    csv.write_text(CSV)
    get_settings.cache_clear()
    try:
        imported = CliRunner().invoke(cli_app, ["data", "import", str(csv), "--symbol", "HERE"])
        assert imported.exit_code == 0, imported.output
        assert (data / "HERE_1d.csv").is_file()
        with TestClient(create_app(Settings())) as client:
            assert [s["name"] for s in client.get("/api/v1/strategies").json()] == ["where_am_i"]
            assert [m["id"] for m in client.get("/api/v1/models").json()] == ["where_am_i/1d_v1"]
    finally:
        get_settings.cache_clear()


# -- logging ----------------------------------------------------------------------------


@covers("KTRDR_LOG_LEVEL", "KTRDR_LOG_FORMAT")
def test_logging_follows_its_level_and_format(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("WARNING", "json")
    try:
        log = get_logger("config-test")
        log.info("hidden")
        log.warning("shown", answer=42)
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1
        record = json.loads(lines[0])
        assert (record["event"], record["level"], record["answer"]) == ("shown", "warning", 42)
    finally:
        configure_logging("INFO", "console")
    assert logging.getLevelName("WARNING") == logging.WARNING  # the level names are logging's


# -- the backend, its clients and its credentials ----------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without ktrdr's settings, nor the one-thread default the suite
    gives torch (so that a thread count seen in a child comes from the setting)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("KTRDR_") and k != "OMP_NUM_THREADS"
    }
    return {**env, **extra}


def healthy(url: str) -> bool:
    return answers_ok(f"{url}/api/v1/health")


@covers("KTRDR_API_HOST", "KTRDR_API_PORT", "KTRDR_DATABASE_URL")
def test_the_backend_listens_and_stores_where_told(tmp_path: Path) -> None:
    port = free_port()
    database = tmp_path / "elsewhere" / "ops.db"
    env = clean_env(
        KTRDR_HOME=str(tmp_path / "home"),
        KTRDR_API_HOST="127.0.0.1",
        KTRDR_API_PORT=str(port),
        KTRDR_DATABASE_URL=f"sqlite:///{database}",
        KTRDR_STRATEGIES_DIR=str(STRATEGIES_DIR),
    )
    log = (tmp_path / "backend.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "ktrdr.api"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: healthy(url), timeout_s=30, interval_s=0.2)
        started = HTTP.post(
            f"{url}/api/v1/trainings/start", json={"strategy_name": "rsi_macd_trend"}
        )
        assert started.status_code == 200, started.text
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert database.is_file()  # the operation went into the configured database
    assert not (tmp_path / "home" / "data" / "ktrdr.db").exists()


@pytest.fixture(scope="module")
def guarded_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(
        home=tmp_path_factory.mktemp("guarded"),
        env_overrides={"KTRDR_API_TOKEN": "t0ken", "KTRDR_WORKER_SECRET": "s3cret"},
    )
    stack.start_backend()
    stack.start_worker("trainer", "training")
    stack.wait_for_workers(training=1)
    yield stack
    stack.stop_all()


@covers("KTRDR_MCP_HOST", "KTRDR_MCP_PORT")
def test_the_mcp_server_listens_where_told_and_its_probe_follows(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(KTRDR_MCP_HOST="127.0.0.1", KTRDR_MCP_PORT=str(port))
    log = (tmp_path / "mcp.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "ktrdr.mcp", "--transport", "http"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def up() -> bool:
            try:
                return HTTP.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success
            except httpx.HTTPError:
                return process.poll() is not None

        wait_for(up, timeout_s=30, interval_s=0.2)
        assert process.poll() is None, (tmp_path / "mcp.log").read_text()
        probe = [sys.executable, "-m", "ktrdr.core.healthcheck", "mcp"]
        assert subprocess.run(probe, env=env, timeout=30).returncode == 0
        elsewhere = clean_env(KTRDR_MCP_PORT=str(free_port()))
        assert subprocess.run(probe, env=elsewhere, capture_output=True, timeout=30).returncode == 1
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=40)


@covers("KTRDR_API_URL", "KTRDR_API_TOKEN")
def test_the_cli_reaches_the_configured_backend_with_its_token(
    guarded_stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy = tmp_path / "tokened.yaml"
    strategy.write_text(canary_strategy("tokened"))
    monkeypatch.setenv("KTRDR_HOME", str(tmp_path / "cli"))
    monkeypatch.setenv("KTRDR_API_URL", guarded_stack.api_url)
    runner = CliRunner()
    try:
        get_settings.cache_clear()
        refused = runner.invoke(cli_app, ["train", str(strategy), "--json"])
        assert refused.exit_code == 1
        assert "HTTP 401" in refused.output
        monkeypatch.setenv("KTRDR_API_TOKEN", "t0ken")
        get_settings.cache_clear()
        queued = runner.invoke(cli_app, ["train", str(strategy), "--json"])
        assert queued.exit_code == 0, queued.output
        assert json.loads(queued.stdout)["status"] in {"pending", "running"}
    finally:
        get_settings.cache_clear()


@covers("KTRDR_WORKER_SECRET")
def test_workers_register_only_with_the_secret(guarded_stack: Stack) -> None:
    # The worker started with the secret registered; a claim without it is refused.
    assert [w["worker_id"] for w in guarded_stack.get("/workers")] == ["trainer"]
    claim = {
        "worker_id": "intruder",
        "worker_type": "training",
        "endpoint_url": "http://127.0.0.1:1",
        "instance_id": ops.instance_id("intruder"),
    }
    url = f"{guarded_stack.api_url}/api/v1/workers/register"
    assert HTTP.post(url, json=claim).status_code == 401
    assert HTTP.post(url, json=claim, headers={WORKER_SECRET_HEADER: "no"}).status_code == 403


@covers("KTRDR_MAX_REQUEST_BYTES")
def test_other_bodies_obey_the_request_limit_before_any_credential_is_checked(
    tmp_path: Path,
) -> None:
    settings = Settings(
        home=tmp_path, strategies_dir=tmp_path / "s", max_request_bytes=4096, api_token="t"
    )
    with TestClient(create_app(settings)) as client:
        body = b'{"strategy_name": "' + b"x" * 8000 + b'"}'
        refused = client.post(
            "/api/v1/trainings/start", content=body, headers={"content-type": "application/json"}
        )
        assert refused.status_code == 413  # not 401: the body was never read
        assert refused.json()["detail"] == (
            "request body larger than 4096 bytes (KTRDR_MAX_REQUEST_BYTES)"
        )


@covers("KTRDR_WORKER_NETWORKS")
def test_workers_register_only_from_the_configured_networks(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, strategies_dir=tmp_path / "s", worker_networks="10.0.0.0/8")
    claim = {
        "worker_id": "outsider",
        "worker_type": "training",
        "endpoint_url": "http://127.0.0.1:5004",
        "instance_id": ops.instance_id("outsider"),
    }
    with TestClient(create_app(settings)) as client:
        refused = client.post("/api/v1/workers/register", json=claim)
        assert refused.status_code == 400
        assert refused.json()["field"] == "endpoint_url"
        assert "outside the worker networks" in refused.json()["detail"]
        inside = {**claim, "endpoint_url": "http://10.1.2.3:5004"}
        assert client.post("/api/v1/workers/register", json=inside).status_code == 200


@covers("KTRDR_LEADER_LEASE_S")
def test_a_lease_left_behind_is_taken_over_after_its_term(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from ktrdr.control.db.engine import create_database_engine
    from ktrdr.control.db.migrate import upgrade_to_head
    from ktrdr.control.orchestration.lease import Lease

    engine = create_database_engine(f"sqlite:///{tmp_path / 'lease.db'}")
    upgrade_to_head(engine)
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    first = Lease(engine, term_s=15, holder="a", clock=lambda: now[0])
    second = Lease(engine, term_s=15, holder="b", clock=lambda: now[0])
    assert first.acquire()
    assert not second.acquire()  # held
    now[0] += timedelta(seconds=14.9)
    assert not second.acquire()  # still within its term
    now[0] += timedelta(seconds=0.2)  # the holder stopped renewing 15 s ago
    assert second.acquire()
    assert not first.acquire()
    assert not first.held
    second.release()  # a graceful stop hands it back at once
    assert first.acquire()


@covers("KTRDR_MAX_UPLOAD_BYTES")
def test_uploads_obey_the_limit(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, strategies_dir=tmp_path / "s", max_upload_bytes=2048)
    with TestClient(create_app(settings)) as client:
        small = client.post("/api/v1/data/SMALL/1d", content=CSV)
        assert small.status_code == 201, small.text
        big_csv = CSV + "2024-01-03,10,11,9,10.5,100\n" * 100
        assert client.post("/api/v1/data/BIG/1d", content=big_csv).status_code == 413
        strategy = canary_strategy("limited") + "#" * 2048
        refused = client.put("/api/v1/strategies/limited", content=strategy)
        assert refused.status_code == 413  # strategies obey it too
        assert "larger than 2048 bytes" in refused.json()["detail"]


# -- workers ----------------------------------------------------------------------------


@covers(
    "KTRDR_WORKER_HOST",
    "KTRDR_WORKER_PORT",
    "KTRDR_WORKER_PUBLIC_URL",
    "KTRDR_WORKER_ID",
    "KTRDR_WORKER_NICENESS",
)
def test_a_worker_registers_as_configured(tmp_path: Path) -> None:
    derived = worker_identity(WorkerType.TRAINING, Settings(worker_host="127.0.0.1"))
    assert derived.endpoint_url == "http://127.0.0.1:5004"
    assert derived.worker_id.startswith("training-")
    assert derived.worker_id.endswith("-5004")
    port = free_port()
    with FakeBackend() as backend:
        env = clean_env(
            KTRDR_HOME=str(tmp_path),
            KTRDR_API_URL=backend.url,
            KTRDR_WORKER_HOST="127.0.0.1",
            KTRDR_WORKER_PORT=str(port),
            KTRDR_WORKER_ID="named-worker",
            KTRDR_WORKER_PUBLIC_URL="http://worker.example:9999",
            KTRDR_WORKER_NICENESS="7",
        )
        own_nice = os.getpriority(os.PRIO_PROCESS, 0)
        process = subprocess.Popen(
            [sys.executable, "-m", "ktrdr.workers", "backtesting"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            registration = wait_for(lambda: backend.calls("register"), timeout_s=60)[0].body
            # It listens on WORKER_HOST:WORKER_PORT, and registers what it was told to.
            assert HTTP.get(f"http://127.0.0.1:{port}/health").json()["worker_id"] == (
                "named-worker"
            )
            # It yields the CPU to a backend on the same host by the niceness it was given.
            assert os.getpriority(os.PRIO_PROCESS, process.pid) == min(19, own_nice + 7)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    assert registration["worker_id"] == "named-worker"
    assert registration["endpoint_url"] == "http://worker.example:9999"


@covers("KTRDR_WORKER_HEARTBEAT_S", "KTRDR_WORKER_SHUTDOWN_GRACE_S")
def test_heartbeats_come_at_their_period_and_shutdown_waits_its_grace(tmp_path: Path) -> None:
    from ktrdr.workers.runtime import create_worker_app  # the runtime, with a stubborn job
    from tests.unit.workers.conftest import TEST_CAPABILITIES

    def stubborn(ctx: Any, _: Any) -> dict[str, Any]:
        time.sleep(10)  # ignores cancellation
        return {}

    with FakeBackend() as backend:
        backend.expect_operation("op-1", "w", "b" * 32)
        settings = Settings(
            home=tmp_path,
            api_url=backend.url,
            worker_id="w",
            worker_port=free_port(),
            worker_heartbeat_s=0.2,
            worker_shutdown_grace_s=0.5,
        )
        worker = create_worker_app(
            WorkerType.BACKTESTING, stubborn, settings, capabilities=TEST_CAPABILITIES
        )
        with TestClient(worker) as client:
            wait_for(lambda: len(backend.calls("heartbeat")) >= 5, timeout_s=5)
            beats = backend.calls("heartbeat")
            assert len(beats) <= 8  # about one per 0.2 s, not a flood
            dispatch = {
                "operation_id": "op-1",
                "operation_type": "backtesting",
                "attempt": "b" * 32,
                "strategy_yaml": "",
                "params": {},
            }
            assert client.post("/operations", json=dispatch).status_code == 202
            stopping = time.monotonic()
        stopped_in = time.monotonic() - stopping  # leaving the client ran the shutdown
        (finish,) = backend.calls("finish")
    assert finish.body["status"] == "failed"
    assert finish.body["error"] == "worker shut down before the operation finished"
    assert 0.5 <= stopped_in < 5  # waited the grace, not the job's 10 s


class _Unreachable:
    def health(self, endpoint_url: str, timeout: float) -> Any:
        raise WorkerCallError("connection refused")


@covers("KTRDR_HEALTH_INTERVAL_S", "KTRDR_WORKER_FAILURE_THRESHOLD")
def test_the_supervisor_checks_at_its_interval_and_drops_at_the_threshold(
    tmp_path: Path,
) -> None:
    from ktrdr.control.db.engine import create_database_engine
    from ktrdr.control.db.migrate import upgrade_to_head
    from ktrdr.control.operations.store import OperationsStore

    engine = create_database_engine(f"sqlite:///{tmp_path / 'ops.db'}")
    upgrade_to_head(engine)
    registry = WorkerRegistry()
    registry.register(
        WorkerRegistration(
            worker_id="w",
            worker_type="training",
            endpoint_url="http://w:1",
            instance_id=ops.instance_id("w"),
        )
    )
    settings = Settings(home=tmp_path, health_interval_s=0.1, worker_failure_threshold=4)
    supervisor = Supervisor(
        OperationsStore(engine),
        registry,
        _Unreachable(),
        settings,
        lambda: None,  # type: ignore[arg-type]
    )
    started = time.monotonic()
    supervisor.start()
    try:
        wait_for(lambda: registry.get("w") is None, timeout_s=5)
    finally:
        supervisor.stop()
    elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 2.0  # four checks 0.1 s apart


@covers("KTRDR_WORKER_LOST_TIMEOUT_S", "KTRDR_OPERATION_MAX_RETRIES")
def test_a_lost_operation_waits_the_timeout_then_is_retried(tmp_path: Path) -> None:
    from ktrdr.control.db.engine import create_database_engine
    from ktrdr.control.db.migrate import upgrade_to_head
    from ktrdr.control.operations.store import OperationsStore

    engine = create_database_engine(f"sqlite:///{tmp_path / 'ops.db'}")
    upgrade_to_head(engine)
    store = OperationsStore(engine)
    op = store.create("training", "demo", "name: demo\n", {})
    assert store.mark_running(op.id, "gone")
    now = [0.0]
    settings = Settings(home=tmp_path, worker_lost_timeout_s=30, operation_max_retries=2)
    supervisor = Supervisor(
        store,
        WorkerRegistry(),
        _Unreachable(),
        settings,
        lambda: None,
        clock=lambda: now[0],  # type: ignore[arg-type]
    )
    supervisor.check_once()
    now[0] = 29.9
    supervisor.check_once()
    assert store.get(op.id).status == "running"
    now[0] = 30.0
    supervisor.check_once()
    assert (store.get(op.id).status, store.get(op.id).attempts) == ("pending", 1)
    for attempt in (2, 3):  # two retries allowed: the third loss fails it
        assert store.mark_running(op.id, "gone")
        supervisor.check_once()
        now[0] += 30
        supervisor.check_once()
        expected = ("pending", 2) if attempt == 2 else ("failed", 2)
        assert (store.get(op.id).status, store.get(op.id).attempts) == expected


@covers("KTRDR_TORCH_THREADS", "KTRDR_HOST_WORKERS")
def test_torch_threads_follow_the_setting_or_the_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KTRDR_TORCH_THREADS", raising=False)
    monkeypatch.delenv("KTRDR_HOST_WORKERS", raising=False)
    cores = len(os.sched_getaffinity(0))
    assert Settings(torch_threads=3).torch_thread_count == 3
    assert Settings(host_workers=cores).torch_thread_count == 1
    assert Settings(host_workers=cores * 4).torch_thread_count == 1  # never zero
    assert Settings().torch_thread_count == cores
    # A worker process applies it before it serves.
    probe = (
        "import torch, ktrdr.workers.entry as entry\n"
        "entry.serve = lambda *a, **k: print(torch.get_num_threads())\n"
        "from ktrdr.core.settings import get_settings\n"
        "entry.run_worker('training', get_settings())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env=clean_env(KTRDR_HOME=str(tmp_path), KTRDR_TORCH_THREADS="1"),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.strip().splitlines()[-1] == "1"
    threading.current_thread()  # (no threads left behind by the checks above)


@covers("KTRDR_CHECKPOINT_EVERY_EPOCHS", "KTRDR_CHECKPOINT_EVERY_SECONDS")
def test_training_checkpoints_follow_their_periods(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from ktrdr.compute.training.trainer import train_network
    from ktrdr.workers.jobs.training import checkpoint_for
    from tests.unit.compute.training.test_trainer import CONFIG, MODEL, learnable_dataset

    def saved_epochs(epochs_every: str, seconds_every: str) -> list[int] | None:
        monkeypatch.setenv("KTRDR_HOME", str(tmp_path))
        monkeypatch.setenv("KTRDR_CHECKPOINT_EVERY_EPOCHS", epochs_every)
        monkeypatch.setenv("KTRDR_CHECKPOINT_EVERY_SECONDS", seconds_every)
        checkpoint = checkpoint_for(Settings(), "op-1")
        if checkpoint is None:
            return None
        assert checkpoint.path == tmp_path / "models" / ".checkpoints" / "op-1.pt"
        checkpoint.remove()
        seen: list[int] = []

        def watch(epoch: int, metrics: dict[str, float]) -> None:
            if checkpoint.path.is_file():
                seen.append(int(torch.load(checkpoint.path, weights_only=True)["epoch"]))

        train_network(
            learnable_dataset(),
            MODEL,
            CONFIG.model_copy(update={"epochs": 5}),
            device="cpu",
            on_epoch_end=watch,
            checkpoint=checkpoint,
        )
        return seen

    assert saved_epochs("2", "0") == [2, 2, 4, 4]
    assert saved_epochs("0", "0.000001") == [1, 2, 3, 4, 5]  # every epoch outlasts it
    assert saved_epochs("0", "0") is None  # checkpoints off
