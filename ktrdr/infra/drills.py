"""Failure drills against the running canary environment (real containers, real engine).

    python -m ktrdr.infra.drills        # after `make env-up ENV=canary`; KTRDR_API_URL

1. kill: ``docker kill`` of the training worker mid-training: the operation is re-queued
   (or failed) within KTRDR_WORKER_LOST_TIMEOUT_S and completes once the worker is back;
2. backend restart: ``docker restart`` of the backend with at least 10 operations queued:
   every one completes, exactly once;
3. stop: ``docker compose stop`` of a busy training worker: its operation is reported
   cancelled with a reason, never left running;
4. database restart: PostgreSQL restarted while backtests are being queued: the backend
   reconnects, every accepted operation completes, nothing is lost.
Each drill prints one line of figures (JSON); the exit status is 1 when one fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from ktrdr.client import ApiClient, ApiError
from ktrdr.core.enums import OperationStatus
from ktrdr.infra import engine
from ktrdr.infra.canary import required_workers_registered
from ktrdr.infra.environments import ENVIRONMENTS

CANARY_FILE = ENVIRONMENTS / "canary" / "docker-compose.yml"
PROJECT = "ktrdr-canary"
LOST_TIMEOUT_S = 60.0  # KTRDR_WORKER_LOST_TIMEOUT_S, the canary's default
SMOKE = files("ktrdr.infra").joinpath("canary_smoke.yaml").read_text(encoding="utf-8")
WAIT_S = 600.0


def strategy(name: str, epochs: int) -> str:
    return SMOKE.replace("name: canary_smoke", f"name: {name}").replace(
        "epochs: 5", f"epochs: {epochs}"
    )


class DrillFailedError(Exception):
    pass


@dataclass
class Figures:
    drill: str
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def require(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)


def docker(*args: str) -> None:
    subprocess.run(
        [engine.docker_client(), *args],
        check=True,
        capture_output=True,
        env=engine.client_env(os.environ.get("DOCKER_HOST")),
    )


def compose(*args: str) -> None:
    docker("compose", "--project-name", PROJECT, "-f", str(CANARY_FILE), *args)


def container(service: str) -> str:
    return f"{PROJECT}-{service}-1"


def wait_until(what: str, condition: Callable[[], bool], timeout_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            if condition():
                return time.monotonic() - started
        except (ApiError, OSError):
            pass  # the backend is restarting
        time.sleep(0.25)
    raise DrillFailedError(f"{what} did not happen within {timeout_s:.0f}s")


def running_with_progress(client: ApiClient, operation_id: str) -> None:
    client.wait(
        operation_id,
        timeout_s=WAIT_S,
        poll_s=0.2,
        until=lambda s: s.status == OperationStatus.RUNNING and s.progress.percent > 0,
    )


def workers_back(client: ApiClient) -> None:
    wait_until(
        "both workers registered",
        lambda: required_workers_registered(client.health().workers),
        120,
    )


def kill_training_worker(client: ApiClient) -> Figures:
    figures = Figures("docker kill training worker mid-training")
    client.upload_strategy("drill_kill", strategy("drill_kill", 100))
    operation_id = client.start_training("drill_kill").operation_id
    running_with_progress(client, operation_id)
    docker("kill", container("training-worker"))
    left_running = wait_until(
        "the operation leaving `running`",
        lambda: client.operation(operation_id).status != OperationStatus.RUNNING,
        LOST_TIMEOUT_S + 30,
    )
    after = client.operation(operation_id)
    figures.values.update(seconds_to_requeue=round(left_running, 1), status_after=after.status)
    figures.require(left_running <= LOST_TIMEOUT_S, f"{left_running:.0f}s > {LOST_TIMEOUT_S}s")
    figures.require(
        after.status in (OperationStatus.PENDING, OperationStatus.FAILED),
        f"after the kill the operation is {after.status}",
    )
    docker("start", container("training-worker"))
    final = client.wait(operation_id, timeout_s=WAIT_S)
    figures.values.update(final=final.status, attempts=final.attempts, worker=final.worker_id)
    if after.status == OperationStatus.PENDING:
        figures.require(final.status == OperationStatus.COMPLETED, f"ended {final.status}")
    workers_back(client)
    return figures


def restart_backend(client: ApiClient, count: int = 14) -> Figures:
    figures = Figures("docker restart backend with operations queued")
    before = {op.id for op in client.operations(limit=500).operations}
    ids = [client.start_backtest("canary_smoke").operation_id for _ in range(count)]
    pending = sum(
        1 for op in client.operations(status="pending", limit=500).operations if op.id in set(ids)
    )
    docker("restart", container("backend"))
    wait_until("the backend healthy again", lambda: client.health().status == "ok", 120)
    finals = [client.wait(op, timeout_s=WAIT_S) for op in ids]
    completed = sum(1 for op in finals if op.status == OperationStatus.COMPLETED)
    created = {op.id for op in client.operations(limit=500).operations} - before
    figures.values.update(
        queued=count,
        pending_at_restart=pending,
        completed=completed,
        lost=count - completed,
        duplicated=sum(1 for op in finals if op.attempts > 1) + len(created - set(ids)),
    )
    figures.require(pending >= 10, f"only {pending} operations pending at the restart")
    figures.require(completed == count, f"{count - completed} of {count} did not complete")
    figures.require(figures.values["duplicated"] == 0, "an operation ran twice")
    workers_back(client)
    return figures


def stop_busy_worker(client: ApiClient) -> Figures:
    figures = Figures("docker compose stop of a busy training worker")
    client.upload_strategy("drill_stop", strategy("drill_stop", 5000))
    operation_id = client.start_training("drill_stop").operation_id
    running_with_progress(client, operation_id)
    started = time.monotonic()
    compose("stop", "training-worker")
    stop_s = time.monotonic() - started
    state = client.operation(operation_id)
    figures.values.update(
        stop_seconds=round(stop_s, 1),
        status=state.status,
        reason=state.error,
        attempts=state.attempts,
    )
    figures.require(state.status == OperationStatus.CANCELLED, f"reported {state.status}")
    figures.require(bool(state.error), "no reason given")
    compose("start", "training-worker")
    workers_back(client)
    return figures


def restart_database(client: ApiClient, count: int = 20) -> Figures:
    figures = Figures("PostgreSQL restarted under load")
    accepted: list[str] = []
    refused: list[str] = []

    def load() -> None:
        for _ in range(count):
            try:
                accepted.append(client.start_backtest("canary_smoke").operation_id)
            except ApiError as error:
                refused.append(str(error)[:80])
            time.sleep(0.3)

    loader = threading.Thread(target=load)
    loader.start()
    time.sleep(1.5)
    started = time.monotonic()
    docker("restart", container("postgres"))
    restart_s = time.monotonic() - started
    loader.join()
    healthy = wait_until(
        "database ok again",
        lambda: client.health().database == "ok" and client.health().status == "ok",
        120,
    )
    finals = [client.wait(op, timeout_s=WAIT_S) for op in accepted]
    completed = sum(1 for op in finals if op.status == OperationStatus.COMPLETED)
    figures.values.update(
        requests=count,
        accepted=len(accepted),
        refused_while_down=len(refused),
        completed=completed,
        lost=len(accepted) - completed,
        duplicated=sum(1 for op in finals if op.attempts > 1),
        restart_seconds=round(restart_s, 1),
        healthy_after_s=round(healthy, 1),
    )
    figures.require(completed == len(accepted), "an accepted operation did not complete")
    figures.require(len(accepted) >= count // 2, f"only {len(accepted)} of {count} accepted")
    return figures


def run(client: ApiClient) -> list[Figures]:
    results = []
    for drill in (kill_training_worker, restart_backend, stop_busy_worker, restart_database):
        started = time.monotonic()
        try:
            figures = drill(client)
        except (DrillFailedError, ApiError, subprocess.CalledProcessError) as error:
            figures = Figures(drill.__name__, problems=[f"{type(error).__name__}: {error}"])
        figures.values["wall_s"] = round(time.monotonic() - started, 1)
        verdict = "FAIL" if figures.problems else "ok  "
        print(f"{verdict} {figures.drill}: {json.dumps(figures.values, default=str)}", flush=True)
        for problem in figures.problems:
            print(f"     {problem}", flush=True)
        results.append(figures)
    return results


def main() -> int:
    url = os.environ.get("KTRDR_API_URL", "http://127.0.0.1:18000")
    with ApiClient(url, os.environ.get("KTRDR_API_TOKEN")) as client:
        results = run(client)
    failed = [f.drill for f in results if f.problems]
    print(f"drills: {len(results) - len(failed)}/{len(results)} passed against {url}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
