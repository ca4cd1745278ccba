"""A real backend and real workers as separate processes, for integration tests.

They start exactly as ``ktrdr up`` starts them (``python -m ktrdr.api``,
``python -m ktrdr.workers TYPE``), configured through the environment.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ktrdr.cli.processes import backend_command, worker_command
from ktrdr.core.enums import WorkerType
from tests.support.fake_backend import free_port, wait_for
from tests.support.http import HTTP, answers_ok
from tests.support.paths import REPO_ROOT

CANARY = REPO_ROOT / "ktrdr" / "infra" / "canary_smoke.yaml"


@dataclass
class Stack:
    home: Path
    api_port: int = field(default_factory=free_port)
    env_overrides: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def env(self, **extra: str) -> dict[str, str]:
        strategies = self.home / "strategies"
        strategies.mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            "KTRDR_HOME": str(self.home),
            "KTRDR_STRATEGIES_DIR": str(strategies),
            "KTRDR_API_URL": self.api_url,
            "KTRDR_HEALTH_INTERVAL_S": "0.5",
            "KTRDR_WORKER_FAILURE_THRESHOLD": "2",
            "KTRDR_WORKER_HEARTBEAT_S": "0.5",
            "KTRDR_WORKER_LOST_TIMEOUT_S": "10",
            "KTRDR_OPERATION_MAX_RETRIES": "0",
            **self.env_overrides,
            **extra,
        }

    def _start(self, name: str, command: list[str], **extra: str) -> None:
        log = (self.home / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            command, env=self.env(**extra), stdout=log, stderr=subprocess.STDOUT
        )

    def start_backend(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self._start(
            "backend",
            backend_command(),
            KTRDR_API_HOST="127.0.0.1",
            KTRDR_API_PORT=str(self.api_port),
        )
        wait_for(self._healthy, timeout_s=30)

    def start_worker(self, name: str, kind: str) -> None:
        port = free_port()
        self._start(
            name,
            worker_command(WorkerType(kind)),
            KTRDR_WORKER_HOST="127.0.0.1",
            KTRDR_WORKER_PORT=str(port),
            KTRDR_WORKER_ID=name,
        )

    def wait_for_workers(self, backtesting: int = 0, training: int = 0) -> None:
        def enough() -> bool:
            counts = self.get("/health")["workers"]
            return counts["backtesting"] >= backtesting and counts["training"] >= training

        wait_for(enough, timeout_s=60, interval_s=0.2)

    def _healthy(self) -> bool:
        return answers_ok(f"{self.api_url}/api/v1/health")

    @property
    def auth(self) -> dict[str, str]:
        """The Bearer header for mutating calls when the stack runs with an API token."""
        token = self.env_overrides.get("KTRDR_API_TOKEN")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str) -> Any:
        response = HTTP.get(f"{self.api_url}/api/v1{path}", timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = HTTP.post(
            f"{self.api_url}/api/v1{path}", json=body, headers=self.auth, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def delete(self, path: str) -> Any:
        response = HTTP.delete(f"{self.api_url}/api/v1{path}", headers=self.auth, timeout=10)
        response.raise_for_status()
        return response.json()

    def put_strategy(self, name: str, text: str) -> None:
        response = HTTP.put(
            f"{self.api_url}/api/v1/strategies/{name}",
            params={"replace": "true"},
            content=text.encode(),
            headers=self.auth,
            timeout=10,
        )
        response.raise_for_status()

    def operation(self, op_id: str) -> dict[str, Any]:
        return self.get(f"/operations/{op_id}")

    def wait_status(self, op_id: str, *statuses: str, timeout_s: float = 120) -> dict[str, Any]:
        return wait_for(
            lambda: (op := self.operation(op_id))["status"] in statuses and op,
            timeout_s=timeout_s,
            interval_s=0.2,
        )

    def wait_running(self, op_id: str, timeout_s: float = 60) -> dict[str, Any]:
        """Running on its worker: accepted there and reporting progress."""
        return wait_for(
            lambda: (
                (op := self.operation(op_id))["status"] == "running"
                and op["progress"]["percent"] > 0
                and op
            ),
            timeout_s=timeout_s,
            interval_s=0.1,
        )

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout_s: float = 30) -> int:
        process = self.processes.pop(name)
        process.send_signal(sig)
        return process.wait(timeout=timeout_s)

    def restore(self, workers: dict[str, str]) -> None:
        """Bring a shared stack back to where each test starts, whatever the test before
        it stopped or killed: the backend running, exactly ``workers`` (name: type)
        registered and idle, and no operation pending or running."""
        backend = self.processes.get("backend")
        if backend is None or backend.poll() is not None:
            self.processes.pop("backend", None)
            self.start_backend()
        for name in [n for n in self.processes if n != "backend" and n not in workers]:
            self.stop(name)  # SIGTERM: it deregisters
        for name, kind in workers.items():
            process = self.processes.get(name)
            if process is None or process.poll() is not None:
                self.processes.pop(name, None)
                # A killed worker's id is free once its health checks have failed; until
                # then the new process is refused and retries its registration.
                self.start_worker(name, kind)
        for op in self._unfinished():
            # A 409: it ended between the listing and the cancel.
            answer = HTTP.delete(
                f"{self.api_url}/api/v1/operations/{op['id']}", headers=self.auth, timeout=10
            )
            assert answer.status_code in (200, 409), answer.text

        def ready() -> bool:
            listed = self.get("/workers")
            return (
                sorted(w["worker_id"] for w in listed) == sorted(workers)
                and all(w["status"] == "idle" and w["current_operation_id"] is None for w in listed)
                and not self._unfinished()
            )

        wait_for(ready, timeout_s=60, interval_s=0.2)

    def _unfinished(self) -> list[dict[str, Any]]:
        return [
            op
            for status in ("pending", "running")
            for op in self.get(f"/operations?status={status}&limit=100")["operations"]
        ]

    def stop_all(self) -> None:
        for name in list(self.processes):
            process = self.processes[name]
            if process.poll() is None:
                self.stop(name, signal.SIGKILL if name != "backend" else signal.SIGTERM)
            else:
                self.processes.pop(name)


@contextmanager
def full_stack(home: Path, **env_overrides: str) -> Iterator[Stack]:
    """A started backend with one training and one backtest worker, both registered."""
    running = Stack(home=home, env_overrides=dict(env_overrides))
    running.start_backend()
    try:
        running.start_worker("trainer", "training")
        running.start_worker("backtester", "backtesting")
        running.wait_for_workers(backtesting=1, training=1)
        yield running
    finally:
        running.stop_all()


def canary_strategy(name: str = "canary_smoke", epochs: int = 5) -> str:
    return (
        CANARY.read_text()
        .replace("name: canary_smoke", f"name: {name}")
        .replace("epochs: 5", f"epochs: {epochs}")
    )
