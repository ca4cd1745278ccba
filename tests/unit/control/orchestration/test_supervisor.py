"""Supervision against a stub worker client and a fake clock, at the configured bounds.

Every path that takes an operation from a worker is driven here round by round:
a worker that stops answering (failure threshold), a running operation whose worker is
not registered (the lost timeout), a worker that answers but no longer runs it, and the
re-queue that follows while retries remain.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ktrdr.control.db.engine import create_database_engine
from ktrdr.control.db.migrate import upgrade_to_head
from ktrdr.control.operations.store import OperationsStore
from ktrdr.control.orchestration.registry import WorkerRegistry
from ktrdr.control.orchestration.supervisor import MISMATCHES_BEFORE_LOSS, Supervisor
from ktrdr.control.orchestration.worker_client import WorkerCallError
from ktrdr.core.enums import OperationStatus, WorkerStatus, WorkerType
from ktrdr.core.protocol import WorkerHealth, WorkerRegistration
from ktrdr.core.settings import Settings
from ktrdr.research.model_registry import checkpoint_file
from tests.support import ops

LOST_TIMEOUT_S = 60.0
THRESHOLD = 3


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class StubWorkers:
    """Answers health checks for each worker as told: its health, or an exception."""

    def __init__(self) -> None:
        self.answers: dict[str, WorkerHealth | Exception] = {}

    def health(self, endpoint_url: str, timeout: float) -> WorkerHealth:
        answer = self.answers[endpoint_url]
        if isinstance(answer, Exception):
            raise answer
        return answer


class Harness:
    def __init__(self, tmp_path: Path, max_retries: int) -> None:
        engine = create_database_engine(f"sqlite:///{tmp_path / 'ops.db'}")
        upgrade_to_head(engine)
        self.store = OperationsStore(engine)
        self.registry = WorkerRegistry()
        self.workers = StubWorkers()
        self.clock = Clock()
        self.changes = 0
        settings = Settings(
            home=tmp_path,
            worker_lost_timeout_s=LOST_TIMEOUT_S,
            worker_failure_threshold=THRESHOLD,
            operation_max_retries=max_retries,
        )
        self.supervisor = Supervisor(
            self.store,
            self.registry,
            self.workers,  # type: ignore[arg-type]
            settings,
            self._changed,
            clock=self.clock,
        )

    def _changed(self) -> None:
        self.changes += 1

    def worker(self, worker_id: str, running: str | None = None) -> str:
        url = f"http://{worker_id}:1"
        self.registry.register(
            WorkerRegistration(
                worker_id=worker_id,
                worker_type=WorkerType.TRAINING,
                endpoint_url=url,
                instance_id=ops.instance_id(worker_id),
                current_operation_id=running,
            )
        )
        self.answers(worker_id, running)
        return url

    def answers(self, worker_id: str, running: str | None) -> None:
        self.workers.answers[f"http://{worker_id}:1"] = WorkerHealth(
            worker_id=worker_id,
            worker_type=WorkerType.TRAINING,
            status=WorkerStatus.BUSY if running else WorkerStatus.IDLE,
            instance_id=ops.instance_id(worker_id),
            current_operation_id=running,
        )

    def running_on(self, worker_id: str) -> str:
        op = self.store.create("training", "demo", "name: demo\n", {})
        assert self.store.mark_running(op.id, worker_id)
        return op.id

    def status(self, op_id: str) -> OperationStatus:
        return self.store.get(op_id).status


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path, max_retries=0)


def test_a_silent_worker_is_dropped_at_the_threshold_and_its_operation_failed(
    harness: Harness,
) -> None:
    harness.worker("w1")
    op_id = harness.running_on("w1")
    harness.answers("w1", op_id)
    harness.supervisor.check_once()
    assert harness.status(op_id) == OperationStatus.RUNNING
    harness.workers.answers["http://w1:1"] = WorkerCallError("connection refused")
    for _ in range(THRESHOLD - 1):
        harness.supervisor.check_once()
        assert harness.registry.get("w1") is not None
        assert harness.status(op_id) == OperationStatus.RUNNING
    harness.supervisor.check_once()
    assert harness.registry.get("w1") is None
    failed = harness.store.get(op_id)
    assert failed.status == OperationStatus.FAILED
    assert failed.error == "worker w1 stopped responding"


def test_any_exception_from_one_worker_counts_against_it_and_spares_the_others(
    harness: Harness,
) -> None:
    harness.worker("broken")
    harness.worker("healthy")
    harness.workers.answers["http://broken:1"] = RuntimeError("a bug in the check")
    harness.supervisor.check_once()
    assert harness.registry.get("broken").failures == 1  # type: ignore[union-attr]
    assert harness.registry.get("healthy").failures == 0  # type: ignore[union-attr]


def test_an_operation_whose_worker_is_gone_fails_at_the_lost_timeout(harness: Harness) -> None:
    op_id = harness.running_on("ghost")  # e.g. lost while the backend was down
    harness.supervisor.check_once()
    harness.clock.now += LOST_TIMEOUT_S - 0.1
    harness.supervisor.check_once()
    assert harness.status(op_id) == OperationStatus.RUNNING  # not before the bound
    harness.clock.now += 0.1
    harness.supervisor.check_once()
    failed = harness.store.get(op_id)
    assert failed.status == OperationStatus.FAILED
    assert failed.error == "worker ghost was lost"
    assert harness.changes >= 1  # the dispatcher is woken


def test_a_worker_that_registers_again_in_time_keeps_its_operation(harness: Harness) -> None:
    op_id = harness.running_on("w1")
    harness.supervisor.check_once()
    harness.clock.now += LOST_TIMEOUT_S / 2
    harness.worker("w1", running=op_id)  # its next heartbeat re-registered it
    harness.supervisor.check_once()
    harness.clock.now += LOST_TIMEOUT_S  # past the bound counted from the first sighting
    harness.supervisor.check_once()
    assert harness.status(op_id) == OperationStatus.RUNNING


def test_a_worker_that_no_longer_runs_the_operation_loses_it(harness: Harness) -> None:
    harness.worker("w1")
    op_id = harness.running_on("w1")
    harness.answers("w1", None)  # it restarted: idle, running nothing
    for _ in range(MISMATCHES_BEFORE_LOSS - 1):
        harness.supervisor.check_once()
        assert harness.status(op_id) == OperationStatus.RUNNING
    harness.supervisor.check_once()
    failed = harness.store.get(op_id)
    assert failed.status == OperationStatus.FAILED
    assert failed.error == "worker w1 no longer runs it"
    assert harness.registry.get("w1") is not None  # the worker itself stays


def test_a_mismatch_that_clears_resets_the_count(harness: Harness) -> None:
    harness.worker("w1")
    op_id = harness.running_on("w1")
    harness.answers("w1", None)
    for _ in range(MISMATCHES_BEFORE_LOSS - 1):
        harness.supervisor.check_once()
    harness.answers("w1", op_id)  # it was only between reports
    harness.supervisor.check_once()
    harness.answers("w1", None)
    for _ in range(MISMATCHES_BEFORE_LOSS - 1):
        harness.supervisor.check_once()
    assert harness.status(op_id) == OperationStatus.RUNNING


def test_a_lost_operation_is_requeued_while_retries_remain(tmp_path: Path) -> None:
    harness = Harness(tmp_path, max_retries=1)
    op_id = harness.running_on("ghost")
    harness.supervisor.check_once()
    harness.clock.now += LOST_TIMEOUT_S
    harness.supervisor.check_once()
    requeued = harness.store.get(op_id)
    assert requeued.status == OperationStatus.PENDING
    assert requeued.attempts == 1
    assert requeued.worker_id is None
    assert requeued.progress.message == "re-queued: worker ghost was lost"
    # Given out again and lost again: no retries left, so it fails.
    assert harness.store.mark_running(op_id, "ghost2")
    harness.supervisor.check_once()
    harness.clock.now += LOST_TIMEOUT_S
    harness.supervisor.check_once()
    assert harness.status(op_id) == OperationStatus.FAILED


def test_the_checkpoint_of_a_lost_training_stays_while_it_is_requeued_and_goes_when_it_fails(
    tmp_path: Path,
) -> None:
    harness = Harness(tmp_path, max_retries=1)
    op_id = harness.running_on("ghost")
    checkpoint = checkpoint_file(tmp_path / "models", op_id)
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"epochs so far")  # what the lost worker left behind
    harness.supervisor.check_once()
    harness.clock.now += LOST_TIMEOUT_S
    harness.supervisor.check_once()
    assert harness.status(op_id) == OperationStatus.PENDING
    assert checkpoint.read_bytes() == b"epochs so far"  # the next attempt resumes it
    assert harness.store.mark_running(op_id, "ghost2")
    harness.supervisor.check_once()
    harness.clock.now += LOST_TIMEOUT_S
    harness.supervisor.check_once()
    assert harness.status(op_id) == OperationStatus.FAILED
    assert not checkpoint.exists()  # nothing will resume it
