"""The worker's backend calls: backoff, and each call's policy when the backend fails."""

from __future__ import annotations

import threading
import time

import pytest

from ktrdr.core.progress import Progress
from ktrdr.core.protocol import FinishReport, ProgressReport, WorkerHealth, WorkerRegistration
from ktrdr.workers.backend_client import BackendClient, Backoff, StaleAttemptError
from tests.support import ops
from tests.support.fake_backend import FakeBackend, free_port

ATTEMPT = "c" * 32
REPORT = FinishReport(
    worker_id="w", attempt=ATTEMPT, status="completed", result={"x": float("inf")}
)
REGISTRATION = WorkerRegistration(
    worker_id="w",
    worker_type="training",
    endpoint_url="http://127.0.0.1:1",
    instance_id=ops.instance_id("w"),
)


def registered(backend: FakeBackend) -> BackendClient:
    """A client that registered as worker "w" (it holds its worker token)."""
    client = BackendClient(backend.url)
    client.register(REGISTRATION)
    return client


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
    client = registered(fake_backend)
    assert client.report_finish("op-1", REPORT) is False
    assert len(fake_backend.calls("finish")) == 1
    client.close()


def test_finish_writes_non_finite_numbers_as_null(fake_backend: FakeBackend) -> None:
    fake_backend.expect_operation("op-1", REPORT.worker_id, ATTEMPT)
    client = registered(fake_backend)
    assert client.report_finish("op-1", REPORT) is True
    call = fake_backend.calls("finish")[0]
    assert call.headers["x-ktrdr-worker-token"]  # every call after registration carries it
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
    report = ProgressReport(worker_id="w", attempt=ATTEMPT, progress=Progress(percent=5))
    client.report_progress("op-1", report)  # logged, not raised
    client.deregister("w")
    client.close()


def test_heartbeat_says_whether_the_backend_knows_the_worker(fake_backend: FakeBackend) -> None:
    client = BackendClient(fake_backend.url)
    health = WorkerHealth(
        worker_id="w", worker_type="training", status="idle", instance_id=ops.instance_id("w")
    )
    assert client.heartbeat("w", health) is False  # never registered
    registration = REGISTRATION
    client.register(registration)
    assert client.heartbeat("w", health) is True
    fake_backend.forget_worker_once()  # a backend restart
    assert client.heartbeat("w", health) is False
    assert client.heartbeat("w", health) is False  # forgotten until it registers again
    client.register(registration)
    assert client.heartbeat("w", health) is True
    client.close()


def test_a_stale_progress_report_says_so(fake_backend: FakeBackend) -> None:
    fake_backend.expect_operation("op-1", "w", "d" * 32)  # another attempt is in force
    client = registered(fake_backend)
    report = ProgressReport(worker_id="w", attempt=ATTEMPT, progress=Progress(percent=5))
    with pytest.raises(StaleAttemptError):
        client.report_progress("op-1", report)
    client.close()


def test_a_stale_finish_is_discarded_not_retried(
    fake_backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_backend.expect_operation("op-1", "w", "d" * 32)
    client = registered(fake_backend)
    assert client.report_finish("op-1", REPORT) is False
    assert [c.status for c in fake_backend.calls("finish")] == [409]
    captured = capsys.readouterr()
    logged = captured.out + captured.err  # structlog's default printer, or ours
    assert "finish refused: this attempt is no longer in force; result discarded" in logged
    assert "finish reported" not in logged
    client.close()


def test_a_finish_for_a_forgotten_worker_is_retried_until_it_registers_again(
    fake_backend: FakeBackend,
) -> None:
    # After a backend restart the finish gets 401 until the worker has registered again.
    fake_backend.expect_operation("op-1", "w", ATTEMPT)
    client = registered(fake_backend)
    fake_backend.forget_worker_once()
    assert (
        client.heartbeat(
            "w",
            WorkerHealth(
                worker_id="w",
                worker_type="training",
                status="busy",
                instance_id=ops.instance_id("w"),
            ),
        )
        is False
    )
    registering = threading.Timer(0.5, client.register, args=(REGISTRATION,))
    registering.start()
    assert client.report_finish("op-1", REPORT, max_wait_s=10) is True
    registering.join()
    statuses = [c.status for c in fake_backend.calls("finish")]
    assert statuses[0] == 401
    assert statuses[-1] == 200
    client.close()
