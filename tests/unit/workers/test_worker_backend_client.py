"""The worker's backend calls: backoff, and each call's policy when the backend fails."""

from __future__ import annotations

import time

import pytest

from ktrdr.core.progress import Progress
from ktrdr.core.protocol import FinishReport, ProgressReport, WorkerHealth, WorkerRegistration
from ktrdr.workers.backend_client import BackendClient, Backoff
from tests.support.fake_backend import FakeBackend, free_port

REPORT = FinishReport(worker_id="w", status="completed", result={"x": float("inf")})


def test_backoff_doubles_up_to_its_maximum_with_jitter() -> None:
    backoff = Backoff(initial=0.5, maximum=10.0, jitter=0.25)
    delays = [backoff.next_delay() for _ in range(8)]
    for delay, nominal in zip(delays, [0.5, 1, 2, 4, 8, 10, 10, 10], strict=True):
        assert nominal * 0.75 <= delay <= min(10.0, nominal * 1.25)
    backoff.reset()
    assert backoff.next_delay() <= 0.625


@pytest.mark.parametrize("status", [404, 409])
def test_finish_is_not_retried_once_the_backend_refuses_it(
    fake_backend: FakeBackend, status: int
) -> None:
    fake_backend.fail_finish(1, status=status)
    client = BackendClient(fake_backend.url)
    assert client.report_finish("op-1", REPORT) is False
    assert len(fake_backend.calls("finish")) == 1
    client.close()


def test_finish_writes_non_finite_numbers_as_null(fake_backend: FakeBackend) -> None:
    fake_backend.expect_operation("op-1", REPORT.worker_id)
    client = BackendClient(fake_backend.url)
    assert client.report_finish("op-1", REPORT) is True
    assert fake_backend.calls("finish")[0].body["result"] == {"x": None}
    client.close()


def test_finish_gives_up_after_its_time_limit_without_a_backend() -> None:
    client = BackendClient(f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    assert client.report_finish("op-1", REPORT, max_wait_s=0.3) is False
    assert time.monotonic() - started < 2
    client.close()


def test_calls_without_a_backend_fail_softly() -> None:
    client = BackendClient(f"http://127.0.0.1:{free_port()}")
    report = ProgressReport(worker_id="w", progress=Progress(percent=5))
    client.report_progress("op-1", report)  # logged, not raised
    client.deregister("w")
    client.close()


def test_heartbeat_says_whether_the_backend_knows_the_worker(fake_backend: FakeBackend) -> None:
    client = BackendClient(fake_backend.url)
    health = WorkerHealth(worker_id="w", worker_type="training", status="idle")
    assert client.heartbeat("w", health) is False  # never registered
    registration = WorkerRegistration(
        worker_id="w", worker_type="training", endpoint_url="http://127.0.0.1:1"
    )
    client.register(registration)
    assert client.heartbeat("w", health) is True
    fake_backend.forget_worker_once()  # a backend restart
    assert client.heartbeat("w", health) is False
    assert client.heartbeat("w", health) is False  # forgotten until it registers again
    client.register(registration)
    assert client.heartbeat("w", health) is True
    client.close()
