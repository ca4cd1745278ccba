"""Fault drills against real processes: a bad registration, a frozen worker, two backends.

Each reproduces a failure found by probing the system and checks the outcome end to end.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ops
from tests.support.fake_backend import wait_for
from tests.support.http import HTTP
from tests.support.stack import Stack, canary_strategy

pytestmark = pytest.mark.integration


def queue_training(stack: Stack, name: str, epochs: int) -> str:
    stack.put_strategy(name, canary_strategy(name, epochs))
    return stack.post("/trainings/start", {"strategy_name": name})["operation_id"]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(home=tmp_path / "home", env_overrides={"KTRDR_OPERATION_MAX_RETRIES": "1"})
    running.start_backend()
    yield running
    running.stop_all()


def test_bad_registrations_are_refused_and_supervision_goes_on(stack: Stack) -> None:
    stack.start_worker("trainer", "training")
    stack.start_worker("backtester", "backtesting")
    stack.wait_for_workers(backtesting=1, training=1)
    url = f"{stack.api_url}/api/v1/workers/register"
    claim = {"worker_type": "backtesting", "instance_id": ops.instance_id("evil")}
    for endpoint in (
        "http://127.0.0.1:18609/\x1b",  # once stopped every supervision round
        "http://\u00bc\u00a7:18609",
        "http://127.0.0.1:18610/arbitrary/path?q=",
    ):
        answer = HTTP.post(url, json={**claim, "worker_id": "evil", "endpoint_url": endpoint})
        assert answer.status_code == 422, endpoint
        assert answer.json()["field"] == "endpoint_url"
    # A live worker's id cannot be taken, not even from an allowed address.
    takeover = {**claim, "worker_id": "backtester", "endpoint_url": "http://127.0.0.1:18611"}
    refused = HTTP.post(url, json=takeover)
    assert refused.status_code == 409
    assert "belongs to a running worker" in refused.json()["detail"]
    assert {w["worker_id"] for w in stack.get("/workers")} == {"trainer", "backtester"}

    # Supervision and dispatch go on: a backtest runs, a killed worker's op is taken back.
    trained = stack.wait_status(queue_training(stack, "drill_smoke", 5), "completed", "failed")
    assert trained["status"] == "completed", trained["error"]
    backtest = stack.post("/backtests/start", {"strategy_name": "drill_smoke"})
    assert stack.wait_status(backtest["operation_id"], "completed", timeout_s=60)
    running = queue_training(stack, "drill_long", 5000)
    stack.wait_running(running)
    stack.stop("trainer", signal.SIGKILL)
    bound = float(stack.env()["KTRDR_WORKER_LOST_TIMEOUT_S"])
    requeued = wait_for(
        lambda: (op := stack.operation(running))["status"] == "pending" and op,
        timeout_s=3 * bound,
        interval_s=0.2,
    )
    assert requeued["progress"]["message"].startswith("re-queued: worker trainer")


def test_a_frozen_worker_that_wakes_up_is_fenced_off(stack: Stack) -> None:
    stack.start_worker("sleepy", "training")
    stack.wait_for_workers(training=1)
    op_id = queue_training(stack, "drill_fence", 150)
    stack.wait_running(op_id)
    frozen = stack.processes["sleepy"]
    frozen.send_signal(signal.SIGSTOP)
    try:
        # Its health checks fail: it is dropped and its training re-queued for another.
        wait_for(
            lambda: stack.operation(op_id)["status"] == "pending", timeout_s=30, interval_s=0.2
        )
        stack.start_worker("fresh", "training")
        wait_for(
            lambda: stack.operation(op_id)["worker_id"] == "fresh", timeout_s=60, interval_s=0.2
        )
    finally:
        frozen.send_signal(signal.SIGCONT)
    # Awake, it keeps computing its old attempt until its next report is refused.
    log = stack.home / "sleepy.log"
    wait_for(lambda: "attempt superseded; stopping the job" in log.read_text(), timeout_s=60)
    done = stack.wait_status(op_id, "completed", "failed", "cancelled", timeout_s=300)
    assert (done["status"], done["worker_id"], done["attempts"]) == ("completed", "fresh", 1)
    wait_for(
        lambda: "finish refused: this attempt is no longer in force" in log.read_text(),
        timeout_s=30,
    )
    assert "finish reported" not in log.read_text()
    # `latest` is the completed operation's model, whatever the old attempt saved.
    model = stack.get("/models/drill_fence/1d_latest")
    assert model["id"] == done["result"]["model_id"]


def test_two_backends_on_one_database_never_both_dispatch(tmp_path: Path) -> None:
    overrides = {"KTRDR_LEADER_LEASE_S": "3", "KTRDR_OPERATION_MAX_RETRIES": "1"}
    first = Stack(home=tmp_path / "shared", env_overrides=overrides)
    second = Stack(home=tmp_path / "shared", env_overrides=overrides)  # same database
    first.start_backend()
    second.start_backend()
    try:
        first.start_worker("trainer", "training")
        first.wait_for_workers(training=1)
        # Queued through the backend without workers: the leader dispatches it all.
        queued = [queue_training(second, f"drill_pair_{i}", 5) for i in range(4)]
        # The follower sees these running with workers it does not know, and leaves them.
        finals = [first.wait_status(op, "completed", "failed", timeout_s=120) for op in queued]
        assert [f["status"] for f in finals] == ["completed"] * 4
        assert all(f["attempts"] == 0 for f in finals)  # none lost, none run twice
        assert sorted(f["result"]["model_id"] for f in finals) == sorted(
            f"drill_pair_{i}/1d_v1" for i in range(4)
        )

        # The leader stops (handing back its lease): the other takes over the dispatch.
        first.stop_all()
        second.start_worker("trainer-2", "training")
        second.wait_for_workers(training=1)
        started = time.monotonic()
        late = queue_training(second, "drill_pair_late", 5)
        assert second.wait_status(late, "completed", timeout_s=60)["worker_id"] == "trainer-2"
        assert time.monotonic() - started < 30
    finally:
        first.stop_all()
        second.stop_all()
