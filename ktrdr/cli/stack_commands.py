"""``ktrdr up`` / ``down`` (a local stack of processes), ``serve`` and ``worker start``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import typer

from ktrdr.cli.context import settings
from ktrdr.cli.errors import UsageError
from ktrdr.cli.output import console, error_console
from ktrdr.cli.processes import backend_command, is_alive, spawn, stop, worker_command
from ktrdr.client import ApiClient, ApiError
from ktrdr.core.enums import WorkerType
from ktrdr.core.settings import DEFAULT_WORKER_PORTS

worker_app = typer.Typer(help="Run a worker process.")


def _state_file() -> Path:
    return settings().home / "run" / "stack.json"


def _running_stack() -> dict[str, Any] | None:
    path = _state_file()
    if not path.is_file():
        return None
    state = json.loads(path.read_text())
    return state if any(is_alive(p["pid"]) for p in state["processes"]) else None


def up(
    api_port: int = typer.Option(None, help="Backend port (default KTRDR_API_PORT, 8000)."),
    backtest_port: int = typer.Option(DEFAULT_WORKER_PORTS[WorkerType.BACKTESTING]),
    training_port: int = typer.Option(DEFAULT_WORKER_PORTS[WorkerType.TRAINING]),
    research_port: int = typer.Option(DEFAULT_WORKER_PORTS[WorkerType.RESEARCH]),
    timeout: float = typer.Option(90.0, help="Seconds to wait for a healthy stack."),
) -> None:
    """Start backend (SQLite) + a backtest, a training and a research worker; wait until healthy.

    The research worker runs the drivers of walk-forwards and sweeps (they wait on their
    children, so they never hold the training or backtest worker).
    """
    if (state := _running_stack()) is not None:
        console.print(f"already up: {state['api_url']} (ktrdr down to stop it)")
        return
    current = settings()
    port = api_port or current.api_port
    api_url = f"http://127.0.0.1:{port}"
    logs = current.home / "logs"
    workers = (
        (WorkerType.BACKTESTING, backtest_port),
        (WorkerType.TRAINING, training_port),
        (WorkerType.RESEARCH, research_port),
    )
    base_env = {
        **os.environ,
        "KTRDR_API_URL": api_url,
        "KTRDR_API_HOST": "127.0.0.1",
        "KTRDR_API_PORT": str(port),
        "KTRDR_HOME": str(current.home),
        # The training and backtest workers share this host's cores (KTRDR_TORCH_THREADS);
        # a driver mostly waits.
        "KTRDR_HOST_WORKERS": os.environ.get("KTRDR_HOST_WORKERS", "2"),
    }
    processes = [("backend", spawn(backend_command(), base_env, logs / "backend.log"), port)]
    for kind, worker_port in workers:
        env = {**base_env, "KTRDR_WORKER_HOST": "127.0.0.1", "KTRDR_WORKER_PORT": str(worker_port)}
        name = f"{kind}-worker"
        process = spawn(worker_command(kind), env, logs / f"{name}.log")
        processes.append((name, process, worker_port))
    state = {
        "api_url": api_url,
        "processes": [
            {"name": name, "pid": process.pid, "port": p, "log": str(logs / f"{name}.log")}
            for name, process, p in processes
        ],
    }
    _state_file().parent.mkdir(parents=True, exist_ok=True)
    _state_file().write_text(json.dumps(state, indent=2))
    deadline = time.monotonic() + timeout
    with ApiClient(api_url, current.api_token, timeout=2.0) as client:
        while True:
            dead = [(n, p) for n, p, _ in processes if p.poll() is not None]
            if dead:
                _fail_up(state, f"{dead[0][0]} exited with status {dead[0][1].returncode}")
            try:
                registered = client.health().workers
                if all(registered.get(kind, 0) >= 1 for kind, _ in workers):
                    break
            except ApiError:
                pass
            if time.monotonic() > deadline:
                _fail_up(state, f"not healthy after {timeout:.0f}s")
            time.sleep(0.3)
    console.print(f"[green]ktrdr stack is up[/] (logs in {logs})")
    console.print(f"  API      {api_url}/api/v1   docs {api_url}/api/v1/docs", soft_wrap=True)
    console.print(f"  dashboard {api_url}/dashboard/")
    console.print(f"  metrics  {api_url}/metrics")
    for name, _, worker_port in processes[1:]:
        console.print(f"  {name:<18} http://127.0.0.1:{worker_port}/health")


def _fail_up(state: dict[str, Any], why: str) -> None:
    error_console.print(f"[red]ktrdr up failed: {why}[/]")
    for process in state["processes"]:
        tail = Path(process["log"]).read_text(errors="replace").splitlines()[-5:]
        for line in tail:
            error_console.print(f"  {process['name']}: {line}")
    stop([p["pid"] for p in state["processes"]], grace_s=10)
    _state_file().unlink(missing_ok=True)
    raise typer.Exit(1)


def down() -> None:
    """Stop the local stack started by ``ktrdr up`` (workers first, then the backend)."""
    path = _state_file()
    if not path.is_file():
        console.print("nothing to stop")
        return
    state = json.loads(path.read_text())
    ordered = sorted(state["processes"], key=lambda p: p["name"] == "backend")
    grace = settings().worker_shutdown_grace_s + 10
    workers = [p["pid"] for p in ordered if p["name"] != "backend"]
    backend = [p["pid"] for p in ordered if p["name"] == "backend"]
    killed = stop(workers, grace) + stop(backend, 15)
    path.unlink(missing_ok=True)
    console.print("ktrdr stack stopped" + (f" (killed {killed})" if killed else ""))


def serve(
    host: str = typer.Option(None, help="Bind address (default KTRDR_API_HOST)."),
    port: int = typer.Option(None, help="Port (default KTRDR_API_PORT)."),
) -> None:
    """Run the backend in the foreground (``python -m ktrdr.api``)."""
    env = {**os.environ}
    if host:
        env["KTRDR_API_HOST"] = host
    if port:
        env["KTRDR_API_PORT"] = str(port)
    command = backend_command()
    os.execve(command[0], command, env)


@worker_app.command("start")
def start_worker(
    worker_type: str = typer.Option(..., "--type", help="backtesting, training or research"),
    host: str = typer.Option(None, help="Bind address (default KTRDR_WORKER_HOST)."),
    port: int = typer.Option(None, help="Port (default KTRDR_WORKER_PORT, 5003 / 5004 / 5005)."),
) -> None:
    """Run a worker in the foreground (``python -m ktrdr.workers TYPE``); it checks its ML
    stack before anything else."""
    if worker_type not in set(WorkerType):
        choices = ", ".join(WorkerType)
        raise UsageError(f"--type must be one of {choices}", field="--type")
    env = {**os.environ}
    if host:
        env["KTRDR_WORKER_HOST"] = host
    if port:
        env["KTRDR_WORKER_PORT"] = str(port)
    command = worker_command(WorkerType(worker_type))
    os.execve(command[0], command, env)
