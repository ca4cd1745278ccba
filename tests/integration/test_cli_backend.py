"""The commands that talk to a backend, against a real one with real workers.

``train``/``backtest`` without ``--local`` (queued, ``--follow``, ``--json``), ``ops``
(list, show, follow, cancel, results), ``workers``; and the commands that start
processes (``up``/``down``, ``serve``, ``worker start``) as subprocesses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ktrdr.cli.app import app
from ktrdr.core.settings import get_settings
from tests.support.fake_backend import free_port, wait_for
from tests.support.http import HTTP, answers_ok
from tests.support.stack import Stack, canary_strategy, full_stack

pytestmark = pytest.mark.integration
KTRDR = str(Path(sys.executable).parent / "ktrdr")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with full_stack(tmp_path_factory.mktemp("cli-stack")) as running:
        yield running


@pytest.fixture
def cli(stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A runner whose commands talk to ``stack`` (settings are read per test)."""
    monkeypatch.setenv("KTRDR_API_URL", stack.api_url)
    monkeypatch.setenv("KTRDR_HOME", str(tmp_path / "cli-home"))
    monkeypatch.setenv("COLUMNS", "70")  # a narrow terminal: tables must keep ids whole
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def strategy_file(tmp_path: Path, name: str, epochs: int = 5) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(canary_strategy(name, epochs))
    return str(path)


def ok(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_train_and_backtest_through_the_backend(cli: CliRunner, tmp_path: Path) -> None:
    path = strategy_file(tmp_path, "cli_smoke")
    trained = json.loads(ok(cli, "train", path, "--follow", "--json"))
    assert trained["model_id"] == "cli_smoke/1d_v1"  # the file was uploaded, then trained
    tested = json.loads(ok(cli, "backtest", path, "--follow", "--json"))
    assert tested["model_id"] == "cli_smoke/1d_v1"
    assert tested["range"]["source"] == "test_split"
    assert {"total_return", "sharpe_ratio", "num_trades"} <= set(tested["metrics"])
    table = ok(cli, "backtest", path, "--follow", "--model", "v1")
    assert "cli_smoke/1d_v1" in table


def test_a_queued_operation_is_shown_followed_and_its_results_read(
    cli: CliRunner, tmp_path: Path
) -> None:
    queued = json.loads(ok(cli, "train", strategy_file(tmp_path, "cli_queue"), "--json"))
    assert queued["status"] in {"pending", "running"}
    operation_id = queued["operation_id"]
    followed = ok(cli, "ops", "follow", operation_id)
    assert followed.strip().endswith(f"{operation_id}: completed")
    shown = json.loads(ok(cli, "ops", "show", operation_id))
    assert shown["status"] == "completed"
    assert "result" not in shown  # shown without it; `ops results` has it
    results = json.loads(ok(cli, "ops", "results", operation_id))
    assert results["result"]["model_id"] == "cli_queue/1d_v1"
    listed = ok(cli, "ops", "list", "--limit", "50")
    assert operation_id in listed  # whole, though the terminal is narrow
    page = json.loads(ok(cli, "ops", "list", "--json", "--type", "training"))
    assert operation_id in {op["id"] for op in page["operations"]}


def test_a_running_training_is_cancelled_from_the_command_line(
    cli: CliRunner, stack: Stack, tmp_path: Path
) -> None:
    queued = json.loads(ok(cli, "train", strategy_file(tmp_path, "cli_long", 5000), "--json"))
    operation_id = queued["operation_id"]
    stack.wait_running(operation_id)
    assert ok(cli, "ops", "cancel", operation_id).strip() == f"{operation_id}: cancelled"
    final = stack.wait_status(operation_id, "cancelled", timeout_s=30)
    assert final["error"] == "cancelled by user"


def test_workers_lists_both_workers(cli: CliRunner) -> None:
    found = {w["worker_id"]: w for w in json.loads(ok(cli, "workers", "--json"))}
    assert found["trainer"]["worker_type"] == "training"
    assert found["backtester"]["worker_type"] == "backtesting"
    table = ok(cli, "workers")
    assert "trainer" in table
    assert "backtester" in table


def test_backend_errors_are_one_clear_line(cli: CliRunner) -> None:
    missing = cli.invoke(app, ["ops", "show", "nope"])
    assert missing.exit_code == 1
    assert "HTTP 404: no operation 'nope'" in missing.output
    assert "Traceback" not in missing.output


def test_an_unreachable_backend_is_said_so(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KTRDR_API_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    result = cli.invoke(app, ["ops", "list"])
    assert result.exit_code == 1
    assert "cannot reach the backend at http://127.0.0.1:" in result.output


# -- commands that start processes ------------------------------------------------------


def process_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KTRDR_")}
    return {**env, "KTRDR_HOME": str(home), "KTRDR_WORKER_HEARTBEAT_S": "0.5", **extra}


def healthy(url: str) -> bool:
    return answers_ok(f"{url}/api/v1/health")


def test_up_starts_the_stack_and_down_stops_it(tmp_path: Path) -> None:
    api_port, backtest_port, training_port = free_port(), free_port(), free_port()
    research_port = free_port()
    env = process_env(tmp_path / "home", KTRDR_API_PORT=str(api_port))
    ports = ["--backtest-port", str(backtest_port), "--training-port", str(training_port)]
    ports += ["--research-port", str(research_port)]
    up = subprocess.run([KTRDR, "up", *ports], env=env, capture_output=True, text=True, timeout=120)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "ktrdr stack is up" in up.stdout
        workers = HTTP.get(f"http://127.0.0.1:{api_port}/api/v1/health").json()["workers"]
        assert workers == {"backtesting": 1, "training": 1, "research": 1}
        again = subprocess.run([KTRDR, "up"], env=env, capture_output=True, text=True, timeout=60)
        assert "already up" in again.stdout
    finally:
        down = subprocess.run([KTRDR, "down"], env=env, capture_output=True, text=True, timeout=90)
    assert down.returncode == 0, down.stdout + down.stderr
    assert down.stdout.strip() == "ktrdr stack stopped"  # nothing needed a SIGKILL
    assert not healthy(f"http://127.0.0.1:{api_port}")
    assert (
        "nothing to stop"
        in subprocess.run(
            [KTRDR, "down"], env=env, capture_output=True, text=True, timeout=30
        ).stdout
    )


def test_serve_runs_the_backend_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [KTRDR, "serve", "--port", str(port)],
        env=process_env(tmp_path / "home"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: healthy(f"http://127.0.0.1:{port}"), timeout_s=30, interval_s=0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0, (tmp_path / "serve.log").read_text()


def test_worker_start_registers_with_the_backend(stack: Stack, tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "worker.log").open("wb")
    env = process_env(tmp_path / "home", KTRDR_API_URL=stack.api_url, KTRDR_WORKER_ID="cli-bt")
    process = subprocess.Popen(
        [KTRDR, "worker", "start", "--type", "backtesting", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        worker = wait_for(
            lambda: next((w for w in stack.get("/workers") if w["worker_id"] == "cli-bt"), None),
            timeout_s=60,
            interval_s=0.2,
        )
        assert worker["endpoint_url"] == f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0, (tmp_path / "worker.log").read_text()
    assert "cli-bt" not in {w["worker_id"] for w in stack.get("/workers")}  # deregistered


def test_worker_start_refuses_an_unknown_type(tmp_path: Path) -> None:
    result = subprocess.run(
        [KTRDR, "worker", "start", "--type", "cooking"],
        env=process_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2  # a usage error
    assert "ktrdr: --type must be one of backtesting, training" in result.stderr
