"""The backend and workers as real processes talking HTTP, with failures injected."""

from __future__ import annotations

import itertools
import signal
import time
from collections.abc import Iterator

import pytest

from ktrdr.client import ApiClient
from ktrdr.infra import canary
from tests.support.stack import Stack, canary_strategy

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(home=tmp_path_factory.mktemp("stack") / "home")
    running.start_backend()
    yield running
    running.stop_all()


WORKERS = {"trainer": "training", "backtester": "backtesting"}


@pytest.fixture
def stack(running_stack: Stack) -> Stack:
    """The module's stack as every test starts on it, whatever the test before it stopped
    or killed: its backend and exactly its two workers, registered and idle, and no
    operation pending or running."""
    running_stack.restore(WORKERS)
    return running_stack


def train(stack: Stack, name: str = "canary_smoke", epochs: int = 5) -> str:
    stack.put_strategy(name, canary_strategy(name, epochs))
    return stack.post("/trainings/start", {"strategy_name": name})["operation_id"]


def test_twenty_backtests_queue_on_one_worker_and_all_complete(stack: Stack) -> None:
    trained = stack.wait_status(train(stack), "completed", "failed")
    assert trained["status"] == "completed", trained["error"]
    model_id = trained["result"]["model_id"]

    op_ids = [
        stack.post("/backtests/start", {"strategy_name": "canary_smoke", "model": model_id})[
            "operation_id"
        ]
        for _ in range(20)
    ]
    finals = [stack.wait_status(op_id, "completed", "failed", "cancelled") for op_id in op_ids]
    assert [f["status"] for f in finals] == ["completed"] * 20
    assert {f["worker_id"] for f in finals} == {"backtester"}
    assert all("sharpe_ratio" in f["result"]["metrics"] for f in finals)
    started = [f["started_at"] for f in finals]
    assert started == sorted(started)  # FIFO
    # One worker: each waited in the queue until the one before it had ended.
    for before, after in itertools.pairwise(finals):
        assert before["completed_at"] <= after["started_at"]


def test_cancel_pending_and_running_operations(stack: Stack) -> None:
    running_id = train(stack, "canary_long", epochs=5000)
    pending_id = train(stack, "canary_smoke")
    stack.wait_running(running_id)
    assert stack.operation(pending_id)["status"] == "pending"

    cancelled_pending = stack.delete(f"/operations/{pending_id}")
    assert cancelled_pending["status"] == "cancelled"
    cancelled_running = stack.delete(f"/operations/{running_id}")
    assert cancelled_running["status"] == "cancelled"

    # The worker really stops and takes the next job.
    next_id = train(stack, "canary_smoke")
    done = stack.wait_status(next_id, "completed", "failed")
    assert done["status"] == "completed", done["error"]
    assert stack.operation(running_id)["status"] == "cancelled"


def test_killed_worker_fails_its_operation_within_the_bound(stack: Stack) -> None:
    op_id = train(stack, "canary_long", epochs=5000)
    stack.wait_running(op_id)
    killed_at = time.monotonic()
    stack.stop("trainer", signal.SIGKILL)
    bound = float(stack.env()["KTRDR_WORKER_LOST_TIMEOUT_S"])
    # Waiting three times longer than the promise, so that the bound below can fail.
    failed = stack.wait_status(op_id, "failed", timeout_s=3 * bound)
    elapsed = time.monotonic() - killed_at
    assert "trainer" in failed["error"]
    assert elapsed < bound
    assert stack.get("/health")["workers"]["training"] == 0


def test_backend_restart_mid_operation_loses_nothing(stack: Stack) -> None:
    op_id = train(stack, "canary_mid", epochs=400)
    stack.wait_running(op_id)
    assert stack.stop("backend") == 0  # a graceful stop is a clean exit
    stack.start_backend()
    # The worker notices (heartbeat 404), registers again and delivers its result.
    stack.wait_for_workers(training=1)
    done = stack.wait_status(op_id, "completed", "failed", timeout_s=180)
    assert done["status"] == "completed", done["error"]
    assert done["worker_id"] == "trainer"


def test_sigterm_on_a_busy_worker_reports_the_operation(stack: Stack) -> None:
    op_id = train(stack, "canary_long", epochs=5000)
    stack.wait_running(op_id)
    assert stack.stop("trainer", signal.SIGTERM) == 0
    final = stack.wait_status(op_id, "cancelled", "failed", timeout_s=30)
    assert "shutting down" in (final["error"] or "") or "shut down" in (final["error"] or "")


def test_the_canary_check_passes_against_the_stack(stack: Stack) -> None:
    with ApiClient(stack.api_url) as client:
        passed = canary.run(client)
    assert passed == [
        "backend health",
        "workers registered",
        "training completes",
        "backtest completes",
        "running training cancels",
    ]
