"""The worker app against a fake backend over real HTTP, with stub jobs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ktrdr.core.progress import OperationCancelledError, Progress
from ktrdr.core.protocol import WORKER_SECRET_HEADER, OperationDispatch
from ktrdr.workers.context import JobContext
from tests.support.fake_backend import FakeBackend, wait_for
from tests.unit.workers.conftest import TEST_CAPABILITIES, WORKER_ID

StartWorker = Callable[..., TestClient]
ATTEMPT = "a1" * 16


@pytest.fixture(autouse=True)
def _operations_given_to_this_worker(fake_backend: FakeBackend) -> None:
    # The tests dispatch op-1 and op-2 themselves; the backend must know it gave them out.
    for operation_id in ("op-1", "op-2"):
        fake_backend.expect_operation(operation_id, WORKER_ID, ATTEMPT)


def body(operation_id: str = "op-1", **params: Any) -> dict[str, Any]:
    return {
        "operation_id": operation_id,
        "operation_type": "backtesting",
        "attempt": ATTEMPT,
        "strategy_yaml": "name: stub\n",
        "params": params,
    }


def quick_job(ctx: JobContext, dispatch: OperationDispatch) -> dict:
    for step in range(21):
        ctx.progress(
            Progress(percent=step * 5.0, message=f"step {step}", items_done=step, items_total=20)
        )
    return {"echo": dispatch.params.model_dump(exclude_none=True), "answer": 42}


def failing_job(*_: object) -> dict:
    raise ValueError("bad input\non two lines")


class BlockingJob:
    """Runs until cancelled (or released); ``started`` tells when it is running."""

    def __init__(self, obey_cancel: bool = True) -> None:
        self.obey_cancel = obey_cancel
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, ctx: JobContext, _: OperationDispatch) -> dict:
        ctx.progress(Progress(percent=1.0, message="running"))
        self.started.set()
        while not self.release.wait(0.01):
            if self.obey_cancel:
                ctx.cancel.raise_if_cancelled()
        return {"released": True}


def finish_of(backend: FakeBackend, operation_id: str = "op-1") -> dict[str, Any]:
    calls = backend.wait_for(lambda: backend.calls("finish", delivered=True))
    assert [c.target for c in calls] == [operation_id]
    return calls[0].body


def test_registers_then_heartbeats_with_its_state(
    fake_backend: FakeBackend, start_worker: StartWorker
) -> None:
    with start_worker(quick_job) as client:
        fake_backend.wait_for(lambda: len(fake_backend.calls("heartbeat")) >= 2)
        health = client.get("/health").json()
        instance_id = health.pop("instance_id")
        assert health == {
            "worker_id": WORKER_ID,
            "worker_type": "backtesting",
            "status": "idle",
            "current_operation_id": None,
            "last_accepted_id": None,
        }
    registration = fake_backend.calls("register")[0].body
    assert registration == {
        "worker_id": WORKER_ID,
        "worker_type": "backtesting",
        "endpoint_url": "http://127.0.0.1:5999",
        "instance_id": instance_id,  # this process's own id
        "capabilities": TEST_CAPABILITIES.model_dump(),
        "current_operation_id": None,
    }
    heartbeat = fake_backend.calls("heartbeat")[0]
    assert heartbeat.status == 200  # with the token its registration was answered with
    assert heartbeat.target == WORKER_ID
    assert heartbeat.body["status"] == "idle"
    assert WORKER_SECRET_HEADER.lower() not in heartbeat.headers


def test_registration_retries_until_the_backend_is_up(start_worker: StartWorker) -> None:
    late = FakeBackend()
    with start_worker(quick_job, backend_url=late.url):
        time.sleep(0.3)  # the first attempts find nothing listening
        with late:
            late.wait_for(lambda: late.calls("register"), timeout_s=10)
            late.wait_for(lambda: late.calls("heartbeat"))


def test_a_forgotten_worker_registers_again(
    fake_backend: FakeBackend, start_worker: StartWorker
) -> None:
    fake_backend.forget_worker_once()
    with start_worker(quick_job):
        fake_backend.wait_for(lambda: len(fake_backend.calls("register")) == 2)
        fake_backend.wait_for(lambda: fake_backend.calls("heartbeat", delivered=True))
    assert fake_backend.calls("heartbeat")[0].status == 404


def test_dispatch_reports_throttled_progress_then_the_result(
    fake_backend: FakeBackend, start_worker: StartWorker
) -> None:
    with start_worker(quick_job) as client:
        response = client.post("/operations", json=body(symbol="IBM"))
        assert (response.status_code, response.json()) == (202, {"accepted": True})
        finish = finish_of(fake_backend)
        wait_for(lambda: client.get("/health").json()["status"] == "idle")
    assert finish == {
        "worker_id": WORKER_ID,
        "attempt": ATTEMPT,
        "status": "completed",
        "result": {"echo": {"symbol": "IBM"}, "answer": 42},
        "error": None,
    }
    progress = fake_backend.calls("progress")
    assert all(c.target == "op-1" for c in progress)
    # Throttled: the first and the last of the 21 reports, not every one.
    assert progress[0].body["progress"]["percent"] == 0.0
    assert progress[-1].body == {
        "worker_id": WORKER_ID,
        "attempt": ATTEMPT,
        "progress": {
            "percent": 100.0,
            "message": "step 20",
            "items_done": 20,
            "items_total": 20,
            "details": {},
        },
    }
    assert len(progress) < 21
    # The last progress report is sent before the finish report.
    kinds = [c.kind for c in fake_backend.calls() if c.kind in {"progress", "finish"}]
    assert kinds[-1] == "finish"


def test_a_busy_worker_refuses_a_second_operation(start_worker: StartWorker) -> None:
    job = BlockingJob()
    with start_worker(job) as client:
        assert client.post("/operations", json=body("op-1")).status_code == 202
        assert job.started.wait(5)
        second = client.post("/operations", json=body("op-2"))
        assert second.status_code == 409
        assert "op-1" in second.json()["detail"]
        health = client.get("/health").json()
        assert (health["status"], health["current_operation_id"]) == ("busy", "op-1")
        assert health["last_accepted_id"] == "op-1"  # the refused one does not count
        assert client.post("/operations/op-2/cancel").status_code == 404
        job.release.set()


def test_a_worker_refuses_the_other_operation_type(start_worker: StartWorker) -> None:
    with start_worker(quick_job) as client:
        response = client.post("/operations", json={**body(), "operation_type": "training"})
        assert response.status_code == 422


def test_cancel_stops_the_job_and_reports_cancelled(
    fake_backend: FakeBackend, start_worker: StartWorker
) -> None:
    job = BlockingJob()
    with start_worker(job) as client:
        client.post("/operations", json=body())
        assert job.started.wait(5)
        assert client.post("/operations/op-1/cancel").status_code == 202
        finish = finish_of(fake_backend)
        wait_for(lambda: client.get("/health").json()["status"] == "idle")
        # Idle again: the next operation is accepted.
        assert client.post("/operations", json=body("op-2")).status_code == 202
        job.release.set()
    assert (finish["status"], finish["error"], finish["result"]) == (
        "cancelled",
        "cancel requested",
        None,
    )


def test_a_failing_job_reports_its_error_on_one_line(
    fake_backend: FakeBackend, start_worker: StartWorker
) -> None:
    with start_worker(failing_job) as client:
        client.post("/operations", json=body())
        finish = finish_of(fake_backend)
    assert (finish["status"], finish["error"]) == ("failed", "ValueError: bad input on two lines")


def test_a_job_returning_no_dict_fails(
    fake_backend: FakeBackend, start_worker: StartWorker
) -> None:
    with start_worker(lambda *_: [1, 2]) as client:
        client.post("/operations", json=body())
        finish = finish_of(fake_backend)
    assert finish["status"] == "failed"
    assert finish["error"].startswith("TypeError: the job returned list")


def test_the_secret_guards_operations_and_goes_to_the_backend(
    fake_backend: FakeBackend, start_worker: StartWorker
) -> None:
    secret = {WORKER_SECRET_HEADER: "s3cret"}
    fake_backend.secret = "s3cret"  # it refuses any call without it, as the backend would
    with start_worker(quick_job, worker_secret="s3cret") as client:
        assert client.post("/operations", json=body()).status_code == 401
        wrong = {WORKER_SECRET_HEADER: "guess"}
        assert client.post("/operations", json=body(), headers=wrong).status_code == 403
        assert client.post("/operations/op-1/cancel").status_code == 401
        assert client.get("/health").status_code == 200  # health stays open
        assert client.post("/operations", json=body(), headers=secret).status_code == 202
        finish_of(fake_backend)
        assert client.post("/operations/op-9/cancel", headers=secret).status_code == 404
        fake_backend.wait_for(lambda: fake_backend.calls("heartbeat"))
    kinds = {"register", "heartbeat", "progress", "finish", "deregister"}
    assert {c.kind for c in fake_backend.calls()} == kinds
    for call in fake_backend.calls():
        assert call.headers.get(WORKER_SECRET_HEADER.lower()) == "s3cret", call.kind


def test_the_finish_report_is_retried_until_delivered(
    fake_backend: FakeBackend, start_worker: StartWorker
) -> None:
    fake_backend.fail_finish(2, status=503)
    with start_worker(quick_job) as client:
        client.post("/operations", json=body())
        fake_backend.wait_for(lambda: fake_backend.calls("finish"))
        # Still busy while the result is undelivered.
        assert client.get("/health").json()["status"] == "busy"
        finish_of(fake_backend)
        wait_for(lambda: client.get("/health").json()["status"] == "idle")
    assert [c.status for c in fake_backend.calls("finish")] == [503, 503, 200]


def test_a_rejected_finish_report_is_not_retried(
    fake_backend: FakeBackend, start_worker: StartWorker
) -> None:
    fake_backend.fail_finish(1, status=409)
    with start_worker(quick_job) as client:
        client.post("/operations", json=body())
        fake_backend.wait_for(lambda: fake_backend.calls("finish"))
        wait_for(lambda: client.get("/health").json()["status"] == "idle")
    assert [c.status for c in fake_backend.calls("finish")] == [409]


def test_shutdown_cancels_the_job_reports_it_and_deregisters(
    fake_backend: FakeBackend, start_worker: StartWorker
) -> None:
    job = BlockingJob()
    with start_worker(job) as client:
        client.post("/operations", json=body())
        assert job.started.wait(5)
    # Leaving the client ran the lifespan shutdown: all of it is done by now.
    finish = finish_of(fake_backend)
    assert (finish["status"], finish["error"]) == ("cancelled", "worker shutting down")
    kinds = [c.kind for c in fake_backend.calls() if c.kind != "progress"]
    assert kinds.index("finish") < kinds.index("deregister")
    assert kinds[-1] == "deregister"  # no heartbeat (nor re-registration) after it
    assert fake_backend.calls("deregister")[0].target == WORKER_ID


def test_shutdown_fails_a_job_that_does_not_stop_in_time(
    fake_backend: FakeBackend, start_worker: StartWorker
) -> None:
    job = BlockingJob(obey_cancel=False)
    with start_worker(job, worker_shutdown_grace_s=0.2) as client:
        client.post("/operations", json=body())
        assert job.started.wait(5)
    finish = finish_of(fake_backend)
    assert (finish["status"], finish["error"]) == (
        "failed",
        "worker shut down before the operation finished",
    )
    assert fake_backend.calls("deregister")
    job.release.set()  # the job ends late: its result must not be reported a second time
    time.sleep(0.2)
    assert len(fake_backend.calls("finish")) == 1


def test_a_stopping_worker_says_so_and_refuses_work(
    fake_backend: FakeBackend, start_worker: StartWorker
) -> None:
    # Ignores cancellation, so the stopping state lasts until the test releases it.
    job = BlockingJob(obey_cancel=False)
    with start_worker(job) as client:
        client.post("/operations", json=body())
        assert job.started.wait(5)
        executor = client.app.state.runtime.executor  # type: ignore[attr-defined]
        stopper = threading.Thread(target=executor.shutdown, args=(5.0,))
        stopper.start()
        wait_for(lambda: client.get("/health").json()["status"] == "stopping")
        assert client.post("/operations", json=body("op-2")).status_code == 409
        job.release.set()
        stopper.join(5)
    assert finish_of(fake_backend)["status"] == "completed"


def test_cancelled_error_from_the_job_carries_its_reason(
    fake_backend: FakeBackend, start_worker: StartWorker
) -> None:
    def job(*_: object) -> dict:
        raise OperationCancelledError("data source went away")

    with start_worker(job) as client:
        client.post("/operations", json=body())
        finish = finish_of(fake_backend)
    assert (finish["status"], finish["error"]) == ("cancelled", "data source went away")


def test_a_superseded_worker_stops_and_its_result_is_refused(
    fake_backend: FakeBackend, start_worker: StartWorker, capsys: Any
) -> None:
    # The worker froze; meanwhile the backend re-queued op-1 and gave it to another attempt.
    def chatty(ctx: JobContext, _: OperationDispatch) -> dict:
        for step in range(2000):
            ctx.progress(Progress(percent=step / 20, message=f"step {step}"))
            ctx.cancel.raise_if_cancelled()
            time.sleep(0.01)
        return {"finished": "should never be"}

    with start_worker(chatty) as client:
        assert client.post("/operations", json=body()).status_code == 202
        fake_backend.wait_for(lambda: fake_backend.calls("progress", delivered=True))
        fake_backend.expect_operation("op-1", "another-worker", "f" * 32)
        finish = fake_backend.wait_for(lambda: fake_backend.calls("finish"), timeout_s=15)[0]
        wait_for(lambda: client.get("/health").json()["status"] == "idle")
    assert finish.status == 409
    assert finish.body["status"] == "cancelled"
    assert finish.body["error"] == "the backend gave this operation to another attempt"
    assert len(fake_backend.calls("finish")) == 1  # refused once, not retried
    captured = capsys.readouterr()
    logged = captured.out + captured.err  # structlog's default printer, or ours
    assert "finish refused: this attempt is no longer in force" in logged
