"""Hand pending operations to free workers, oldest first.

Operations wait as ``pending`` while no suitable worker is idle (a queue, not a 503).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from ktrdr.control.operations.store import OperationsStore
from ktrdr.control.orchestration.registry import WorkerRegistry
from ktrdr.control.orchestration.worker_client import WorkerCallError, WorkerClient
from ktrdr.core.background import BackgroundLoop
from ktrdr.core.enums import OperationStatus, OperationType
from ktrdr.core.logging_setup import get_logger
from ktrdr.core.protocol import OperationDispatch

log = get_logger(__name__)


@dataclass(eq=False, repr=False)
class Dispatcher(BackgroundLoop):
    store: OperationsStore
    registry: WorkerRegistry
    client: WorkerClient
    idle_wait_s: float = 0.5
    is_leader: Callable[[], bool] = lambda: True
    _wake: threading.Event = field(default_factory=threading.Event, init=False)
    thread_name: ClassVar[str] = "dispatcher"

    def _interrupt_wait(self) -> None:
        self.wake()

    def wake(self) -> None:
        """Something changed (new operation, free worker): look at the queue now."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.idle_wait_s)
            self._wake.clear()
            try:
                self.dispatch_pending()
            except Exception:  # the loop must outlive any single failure
                log.exception("dispatch_round_failed")

    def dispatch_pending(self) -> int:
        """One pass over the queue; returns how many operations were handed out.

        Only the backend holding the leader lease hands out work (see lease.py).
        """
        if not self.is_leader():
            return 0
        # Every start and every report wakes this loop; with no worker free (the usual
        # case under load) there is nothing to hand out, and reading the queue is skipped.
        if not any(self.registry.idle_candidates(kind) for kind in OperationType):
            return 0
        handed_out = 0
        # First in, first out per type: once an operation of a type could not be placed,
        # later ones of that type wait too, or they would overtake it.
        blocked: set[OperationType] = set()
        for operation in self.store.pending():
            if operation.type in blocked:
                continue
            placed = False
            for worker in self.registry.idle_candidates(operation.type):
                if not self.registry.claim(worker.worker_id, operation.id):
                    continue
                attempt = self.store.mark_running(operation.id, worker.worker_id)
                if attempt is None:
                    self.registry.release(worker.worker_id, operation.id)
                    placed = True  # cancelled meanwhile: nothing to keep waiting for
                    break
                if self._send(operation.id, attempt, worker.worker_id, worker.endpoint_url):
                    handed_out += 1
                    placed = True
                    break
                self.store.revert_to_pending(operation.id, worker.worker_id, attempt)
            if not placed:
                blocked.add(operation.type)
        return handed_out

    def _send(self, operation_id: str, attempt: str, worker_id: str, endpoint_url: str) -> bool:
        operation = self.store.get(operation_id)
        dispatch = OperationDispatch(
            operation_id=operation_id,
            operation_type=operation.type,
            attempt=attempt,
            strategy_yaml=self.store.strategy_yaml(operation_id),
            params=operation.params,
        )
        try:
            status = self.client.dispatch(endpoint_url, dispatch)
        except WorkerCallError as error:
            log.warning("dispatch_failed", worker_id=worker_id, error=str(error)[:300])
            self.registry.failed_check(worker_id)
            self.registry.release(worker_id, operation_id)
            return False
        if status == 202:
            log.info("dispatched", operation_id=operation_id, worker_id=worker_id)
            if self.store.get(operation_id).status == OperationStatus.CANCELLED:
                # Cancelled while the dispatch was in flight: the cancel found nothing to stop.
                self.client.cancel(endpoint_url, operation_id)
            return True
        # 409: still finishing its previous job; try again on the next round.
        log.info("dispatch_refused", worker_id=worker_id, status=status)
        self.registry.release(worker_id, operation_id)
        return False
