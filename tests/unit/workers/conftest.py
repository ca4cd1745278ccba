from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ktrdr.core.enums import WorkerType
from ktrdr.core.protocol import WorkerCapabilities
from ktrdr.core.settings import Settings
from ktrdr.workers.context import JobFunction
from ktrdr.workers.runtime import create_worker_app
from tests.support.fake_backend import FakeBackend, fake_backend

__all__ = ["fake_backend"]  # re-exported as a fixture for this directory

# Given to the app so unit tests do not import torch to detect them.
TEST_CAPABILITIES = WorkerCapabilities(gpu=False, device="cpu", torch_version="0.0-test")
WORKER_ID = "test-worker"


def worker_settings(api_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "api_url": api_url,
        "worker_id": WORKER_ID,
        "worker_host": "127.0.0.1",
        "worker_port": 5999,
        "worker_public_url": None,
        "worker_secret": None,
        "worker_heartbeat_s": 0.05,
        "worker_shutdown_grace_s": 3.0,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def start_worker(fake_backend: FakeBackend) -> Callable[..., TestClient]:
    """Build a worker app around ``job``; enter the returned client to run its lifespan."""

    def build(
        job: JobFunction,
        *,
        worker_type: WorkerType = WorkerType.BACKTESTING,
        backend_url: str | None = None,
        **overrides: Any,
    ) -> TestClient:
        settings = worker_settings(backend_url or fake_backend.url, **overrides)
        app = create_worker_app(worker_type, job, settings, capabilities=TEST_CAPABILITIES)
        return TestClient(app)

    return build
