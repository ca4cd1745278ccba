"""The images' HEALTHCHECK probe, run as the images run it, against live processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_backend import free_port
from tests.support.stack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(home=tmp_path_factory.mktemp("probe"))
    running.start_backend()
    running.start_worker("bt", "backtesting")
    running.wait_for_workers(backtesting=1)
    yield running
    running.stop_all()


def probe(role: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KTRDR_")}
    return subprocess.run(
        [sys.executable, "-m", "ktrdr.core.healthcheck", role],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def worker_port(stack: Stack) -> str:
    (worker,) = stack.get("/workers")
    return worker["endpoint_url"].rsplit(":", 1)[1]


def test_the_api_probe_passes_on_the_port_the_backend_serves(stack: Stack) -> None:
    assert probe("api", KTRDR_API_PORT=str(stack.api_port)).returncode == 0


def test_the_worker_probe_passes_on_the_port_the_worker_serves(stack: Stack) -> None:
    assert probe("worker", KTRDR_WORKER_PORT=worker_port(stack)).returncode == 0


def test_auto_probes_the_worker_when_a_worker_port_is_set(stack: Stack) -> None:
    assert probe("auto", KTRDR_WORKER_PORT=worker_port(stack)).returncode == 0
    assert probe("auto", KTRDR_API_PORT=str(stack.api_port)).returncode == 0


def test_a_probe_of_a_port_nobody_serves_fails_with_one_line(tmp_path: Path) -> None:
    port = str(free_port())
    result = probe("api", KTRDR_API_PORT=port)
    assert result.returncode == 1
    assert result.stderr.startswith(f"unhealthy: http://127.0.0.1:{port}/api/v1/health")


def test_an_unknown_role_is_a_usage_error() -> None:
    result = probe("database")
    assert result.returncode != 0
    assert "usage: python -m ktrdr.core.healthcheck api|worker" in result.stderr
