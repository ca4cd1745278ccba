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

import threading
import time
from collections.abc import Callable

from ktrdr.control.operations.store import OperationsStore
from ktrdr.control.orchestration.cascade import cancel_children
from ktrdr.control.orchestration.registry import WorkerRegistry
from ktrdr.control.orchestration.worker_client import WorkerClient
from ktrdr.core.enums import OperationStatus, WorkerStatus
from ktrdr.core.logging_setup import get_logger
from ktrdr.core.settings import Settings
from ktrdr.research.model_registry import discard_checkpoint

log = get_logger(__name__)
MISMATCHES_BEFORE_LOSS = 3


class Supervisor:
    def __init__(
        self,
        store: OperationsStore,
        registry: WorkerRegistry,
        client: WorkerClient,
        settings: Settings,
        on_change: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
        is_leader: Callable[[], bool] = lambda: True,
    ) -> None:
        self._store = store
        self._registry = registry
        self._client = client
        self._settings = settings
        self._on_change = on_change
        self._clock = clock
        self._is_leader = is_leader
        self._orphans_since: dict[str, float] = {}
        self._mismatches: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._settings.health_interval_s):
            try:
                self.check_once()
            except Exception:
                log.exception("supervision_round_failed")

    def check_once(self) -> None:
        """One round: every registered worker's health, then (as leader) every running op.

        A backend without the leader lease keeps its own workers' state current but
        takes no operation from anyone: that is the leader's call alone.
        """
        leader = self._is_leader()
        timeout = min(self._settings.health_interval_s, 3.0)
        for worker in self._registry.all():
            try:
                health = self._client.health(worker.endpoint_url, timeout)
                if health.worker_id != worker.worker_id:
                    raise ValueError(f"{worker.endpoint_url} answers as {health.worker_id!r}")
            except Exception as error:  # any failure of one worker's check counts against it
                failures = self._registry.failed_check(worker.worker_id)
                log.warning(
                    "health_check_failed",
                    worker_id=worker.worker_id,
                    failures=failures,
                    error=str(error),
                )
                if failures >= self._settings.worker_failure_threshold:
                    self._registry.remove(worker.worker_id)
                    if leader:
                        self._lose_operations_of(worker.worker_id, "stopped responding")
                continue
            self._registry.seen(worker.worker_id, health.status, health.current_operation_id)
            if health.status == WorkerStatus.IDLE:
                self._on_change()
        if leader:
            self._check_running_operations()
        else:  # a new leader starts counting afresh
            self._orphans_since.clear()
            self._mismatches.clear()

    def _check_running_operations(self) -> None:
        now = self._clock()
        running = self._store.running()
        running_ids = {op.id for op in running}
        for op_id in list(self._orphans_since):
            if op_id not in running_ids:
                del self._orphans_since[op_id]
        for op_id in list(self._mismatches):
            if op_id not in running_ids:
                del self._mismatches[op_id]
        for operation in running:
            worker = self._registry.get(operation.worker_id or "")
            if worker is None:
                since = self._orphans_since.setdefault(operation.id, now)
                if now - since >= self._settings.worker_lost_timeout_s:
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
        for operation in self._store.running():
            if operation.worker_id == worker_id:
                self._lose(operation.id, worker_id, why)

    def _lose(self, operation_id: str, worker_id: str | None, why: str) -> None:
        reason = f"worker {worker_id} {why}"
        record = self._store.fail_or_requeue(
            operation_id, reason, self._settings.operation_max_retries, worker_id=worker_id
        )
        if record.status == OperationStatus.FAILED:  # no attempt will resume its training
            discard_checkpoint(self._settings.models_path, operation_id)
        log.warning(
            "operation_lost", operation_id=operation_id, reason=reason, status=record.status
        )
        if record.type.is_parent and record.status.is_terminal:
            # A driver that failed for good: nobody waits for its children any more. A
            # re-queued driver keeps them: its next attempt re-attaches by their keys.
            cancel_children(self._store, self._registry, self._client, operation_id, reason)
        self._orphans_since.pop(operation_id, None)
        self._mismatches.pop(operation_id, None)
        self._on_change()
