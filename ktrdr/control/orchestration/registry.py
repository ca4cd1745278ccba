"""Workers known to the backend, in memory.

Workers re-register after a backend restart (their heartbeat gets a 404), so nothing
here needs to survive one; operations, which must, live in the database.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field, replace

from ktrdr.core.api_models import Worker
from ktrdr.core.auth import same_secret
from ktrdr.core.enums import OperationType, WorkerStatus, WorkerType
from ktrdr.core.errors import AuthError
from ktrdr.core.protocol import WorkerCapabilities, WorkerHealth, WorkerRegistration


@dataclass(frozen=True)
class WorkerInfo:
    worker_id: str
    worker_type: WorkerType
    endpoint_url: str
    instance_id: str
    # Issued at registration; the worker's later calls carry it. Never shown by the API.
    token: str = field(repr=False)
    capabilities: WorkerCapabilities
    status: WorkerStatus = WorkerStatus.IDLE
    current_operation_id: str | None = None
    registered_at: float = field(default_factory=time.time)
    last_seen: float = field(default_factory=time.time)
    last_assigned: float = 0.0
    failures: int = 0
    # The operation whose finish report last freed this worker: a report still busy with
    # it was made before that finish, and is only a sign of life.
    finished_id: str | None = None

    def view(self) -> Worker:
        return Worker(
            worker_id=self.worker_id,
            worker_type=self.worker_type,
            status=self.status,
            endpoint_url=self.endpoint_url,
            capabilities=self.capabilities,
            current_operation_id=self.current_operation_id,
            last_seen=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.last_seen)),
            failures=self.failures,
        )


class WorkerRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._workers: dict[str, WorkerInfo] = {}

    def register(self, registration: WorkerRegistration) -> WorkerInfo:
        """Add or replace the worker (whether it may is admission's call) with a new token."""
        with self._lock:
            previous = self._workers.get(registration.worker_id)
            busy = registration.current_operation_id is not None
            info = WorkerInfo(
                worker_id=registration.worker_id,
                worker_type=registration.worker_type,
                endpoint_url=registration.endpoint_url.rstrip("/"),
                instance_id=registration.instance_id,
                token=secrets.token_urlsafe(32),
                capabilities=registration.capabilities,
                status=WorkerStatus.BUSY if busy else WorkerStatus.IDLE,
                current_operation_id=registration.current_operation_id,
                last_assigned=previous.last_assigned if previous else 0.0,
            )
            self._workers[info.worker_id] = info
            return info

    def get(self, worker_id: str) -> WorkerInfo | None:
        with self._lock:
            return self._workers.get(worker_id)

    def authenticate(self, worker_id: str, token: str | None) -> WorkerInfo:
        """The worker, if ``token`` is its own; 401 when it is not registered, 403 if wrong.

        401 makes a worker register again (after a backend restart it is forgotten).
        """
        info = self.get(worker_id)
        if info is None:
            raise AuthError(f"worker {worker_id[:128]!r} is not registered: register first")
        if not same_secret(token, info.token):
            raise AuthError(f"wrong worker token for {worker_id[:128]!r}", forbidden=True)
        return info

    def all(self) -> list[WorkerInfo]:
        with self._lock:
            return sorted(self._workers.values(), key=lambda w: (w.worker_type, w.worker_id))

    def remove(self, worker_id: str) -> WorkerInfo | None:
        with self._lock:
            return self._workers.pop(worker_id, None)

    def seen(self, worker_id: str, health: WorkerHealth) -> bool:
        """Record a heartbeat or a successful health check; False when unknown.

        A report made before the worker accepted the operation it holds here (one just
        claimed for it, its dispatch perhaps in flight) says nothing of that operation: it
        counts as a sign of life but leaves the claim, or the worker would look idle and
        be handed a second operation while it still runs the first. Likewise a report
        still busy with the operation whose finish already freed the worker: applied, it
        would hold the worker busy with a finished operation until the next report.
        """
        with self._lock:
            info = self._workers.get(worker_id)
            if info is None:
                return False
            held = info.current_operation_id
            before_claim = health.last_accepted_id is not None and held not in (
                None,
                health.last_accepted_id,
            )
            before_finish = (
                health.current_operation_id is not None
                and health.current_operation_id == info.finished_id
            )
            older = before_claim or before_finish
            self._workers[worker_id] = replace(
                info,
                status=info.status if older else health.status,
                current_operation_id=held if older else health.current_operation_id,
                last_seen=time.time(),
                failures=0,
            )
            return True

    def failed_check(self, worker_id: str) -> int:
        """Count a failed health check; returns the consecutive failures so far."""
        with self._lock:
            info = self._workers.get(worker_id)
            if info is None:
                return 0
            self._workers[worker_id] = replace(info, failures=info.failures + 1)
            return info.failures + 1

    def claim(self, worker_id: str, operation_id: str) -> bool:
        """Mark an idle worker busy with ``operation_id``; False if it is not idle."""
        with self._lock:
            info = self._workers.get(worker_id)
            if info is None or info.status != WorkerStatus.IDLE:
                return False
            self._workers[worker_id] = replace(
                info,
                status=WorkerStatus.BUSY,
                current_operation_id=operation_id,
                last_assigned=time.time(),
                # Handed out again (a retry): reports of it count once more.
                finished_id=None if info.finished_id == operation_id else info.finished_id,
            )
            return True

    def release(self, worker_id: str, operation_id: str | None = None) -> None:
        with self._lock:
            info = self._workers.get(worker_id)
            if info is None:
                return
            if operation_id is None or info.current_operation_id == operation_id:
                self._workers[worker_id] = replace(
                    info, status=WorkerStatus.IDLE, current_operation_id=None
                )

    def finished(self, worker_id: str, operation_id: str) -> None:
        """The worker reported ``operation_id`` finished: free it, and from now on take
        its reports still busy with that operation as older than the finish."""
        with self._lock:
            info = self._workers.get(worker_id)
            if info is None:
                return
            held = info.current_operation_id
            freed = held in (None, operation_id)
            self._workers[worker_id] = replace(
                info,
                status=WorkerStatus.IDLE if freed else info.status,
                current_operation_id=None if freed else held,
                finished_id=operation_id,
            )

    def idle_candidates(self, operation_type: OperationType) -> list[WorkerInfo]:
        """Idle workers for a job, best first.

        Training: GPU workers first, then CPU; backtests: least recently used first.
        """
        with self._lock:
            idle = [
                w
                for w in self._workers.values()
                if w.worker_type.runs(operation_type) and w.status == WorkerStatus.IDLE
            ]
        if operation_type == OperationType.TRAINING:
            return sorted(idle, key=lambda w: (not w.capabilities.gpu, w.last_assigned))
        return sorted(idle, key=lambda w: w.last_assigned)

    def counts(self) -> dict[WorkerType, dict[WorkerStatus, int]]:
        """worker type -> status -> count."""
        counts: dict[WorkerType, dict[WorkerStatus, int]] = {kind: {} for kind in WorkerType}
        for info in self.all():
            by_status = counts.setdefault(info.worker_type, {})
            by_status[info.status] = by_status.get(info.status, 0) + 1
        return counts
