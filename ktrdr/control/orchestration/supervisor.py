"""Watch workers and the operations they run; nothing stays ``running`` forever.

- Each worker's ``/health`` is polled every ``health_interval_s``; after
  ``worker_failure_threshold`` consecutive failures it is dropped and its operation is
  failed (or re-queued while retries remain).
- A running operation whose worker is not registered (e.g. lost while the backend was
  down) is failed once ``worker_lost_timeout_s`` has passed.
- A worker that answers but no longer runs the operation it was given (it restarted)
  loses that operation after three such answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from ktrdr.control.operations.store import OperationsStore
from ktrdr.control.orchestration.cascade import cancel_children
from ktrdr.control.orchestration.registry import WorkerRegistry
from ktrdr.control.orchestration.worker_client import WorkerClient
from ktrdr.core.background import BackgroundLoop
from ktrdr.core.enums import OperationStatus, WorkerStatus
from ktrdr.core.logging_setup import get_logger
from ktrdr.core.settings import Settings
from ktrdr.research.model_registry import discard_checkpoint

log = get_logger(__name__)
MISMATCHES_BEFORE_LOSS = 3


@dataclass(eq=False, repr=False)
class Supervisor(BackgroundLoop):
    store: OperationsStore
    registry: WorkerRegistry
    client: WorkerClient
    settings: Settings
    on_change: Callable[[], None]
    clock: Callable[[], float] = time.monotonic
    is_leader: Callable[[], bool] = lambda: True
    _orphans_since: dict[str, float] = field(default_factory=dict, init=False)
    _mismatches: dict[str, int] = field(default_factory=dict, init=False)
    thread_name: ClassVar[str] = "supervisor"

    def _run(self) -> None:
        while not self._stop.wait(self.settings.health_interval_s):
            try:
                self.check_once()
            except Exception:
                log.exception("supervision_round_failed")

    def check_once(self) -> None:
        """One round: every registered worker's health, then (as leader) every running op.

        A backend without the leader lease keeps its own workers' state current but
        takes no operation from anyone: that is the leader's call alone.
        """
        leader = self.is_leader()
        timeout = min(self.settings.health_interval_s, 3.0)
        for worker in self.registry.all():
            try:
                health = self.client.health(worker.endpoint_url, timeout)
                if health.worker_id != worker.worker_id:
                    raise ValueError(f"{worker.endpoint_url} answers as {health.worker_id!r}")
            except Exception as error:  # any failure of one worker's check counts against it
                failures = self.registry.failed_check(worker.worker_id)
                log.warning(
                    "health_check_failed",
                    worker_id=worker.worker_id,
                    failures=failures,
                    error=str(error),
                )
                if failures >= self.settings.worker_failure_threshold:
                    self.registry.remove(worker.worker_id)
                    if leader:
                        self._lose_operations_of(worker.worker_id, "stopped responding")
                continue
            self.registry.seen(worker.worker_id, health)
            if health.status == WorkerStatus.IDLE:
                self.on_change()
        if leader:
            self._check_running_operations()
        else:  # a new leader starts counting afresh
            self._orphans_since.clear()
            self._mismatches.clear()

    def _check_running_operations(self) -> None:
        now = self.clock()
        running = self.store.running()
        running_ids = {op.id for op in running}
        for op_id in list(self._orphans_since):
            if op_id not in running_ids:
                del self._orphans_since[op_id]
        for op_id in list(self._mismatches):
            if op_id not in running_ids:
                del self._mismatches[op_id]
        for operation in running:
            worker = self.registry.get(operation.worker_id or "")
            if worker is None:
                since = self._orphans_since.setdefault(operation.id, now)
                if now - since >= self.settings.worker_lost_timeout_s:
                    self._lose(operation.id, operation.worker_id, "was lost")
                continue
            self._orphans_since.pop(operation.id, None)
            if worker.current_operation_id == operation.id:
                self._mismatches.pop(operation.id, None)
                continue
            count = self._mismatches.get(operation.id, 0) + 1
            self._mismatches[operation.id] = count
            if count >= MISMATCHES_BEFORE_LOSS:
                self._lose(operation.id, worker.worker_id, "no longer runs it")

    def _lose_operations_of(self, worker_id: str, why: str) -> None:
        for operation in self.store.running():
            if operation.worker_id == worker_id:
                self._lose(operation.id, worker_id, why)

    def _lose(self, operation_id: str, worker_id: str | None, why: str) -> None:
        reason = f"worker {worker_id} {why}"
        record = self.store.fail_or_requeue(
            operation_id, reason, self.settings.operation_max_retries, worker_id=worker_id
        )
        if record.status == OperationStatus.FAILED:  # no attempt will resume its training
            discard_checkpoint(self.settings.models_path, operation_id)
        log.warning(
            "operation_lost", operation_id=operation_id, reason=reason, status=record.status
        )
        if record.type.is_parent and record.status.is_terminal:
            # A driver that failed for good: nobody waits for its children any more. A
            # re-queued driver keeps them: its next attempt re-attaches by their keys.
            cancel_children(self.store, self.registry, self.client, operation_id, reason)
        self._orphans_since.pop(operation_id, None)
        self._mismatches.pop(operation_id, None)
        self.on_change()
