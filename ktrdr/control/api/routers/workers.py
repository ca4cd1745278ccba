from __future__ import annotations

from fastapi import APIRouter

from ktrdr.control.api.dependencies import ServicesDep, worker_call
from ktrdr.control.api.errors import ERROR_RESPONSES
from ktrdr.core.api_models import HeartbeatAnswer, Worker, WorkerRemoved
from ktrdr.core.enums import WorkerStatus, WorkerType
from ktrdr.core.errors import NotFoundError
from ktrdr.core.protocol import WorkerHealth, WorkerRegistration

router = APIRouter(prefix="/workers", tags=["workers"], responses=ERROR_RESPONSES)


def _not_registered(worker_id: str) -> NotFoundError:
    return NotFoundError(f"worker {worker_id[:128]!r} is not registered", field="worker_id")


@worker_call(router, "POST", "/register", Worker)
def register(registration: WorkerRegistration, services: ServicesDep) -> Worker:
    """Add or refresh a worker; registering again is harmless."""
    info = services.registry.register(registration)
    services.dispatcher.wake()
    return info.view()


@worker_call(router, "POST", "/{worker_id}/heartbeat", HeartbeatAnswer)
def heartbeat(worker_id: str, health: WorkerHealth, services: ServicesDep) -> HeartbeatAnswer:
    """404 tells a worker that the backend forgot it (restart): it registers again."""
    if not services.registry.seen(worker_id, health.status, health.current_operation_id):
        raise _not_registered(worker_id)
    if health.status == WorkerStatus.IDLE:
        services.dispatcher.wake()
    return HeartbeatAnswer(ok=True)


@router.get("", response_model=list[Worker])
def list_workers(services: ServicesDep, worker_type: WorkerType | None = None) -> list[Worker]:
    return [
        w.view()
        for w in services.registry.all()
        if worker_type is None or w.worker_type == worker_type
    ]


@router.get("/{worker_id}", response_model=Worker)
def get_worker(worker_id: str, services: ServicesDep) -> Worker:
    info = services.registry.get(worker_id)
    if info is None:
        raise _not_registered(worker_id)
    return info.view()


@worker_call(router, "DELETE", "/{worker_id}", WorkerRemoved)
def deregister(worker_id: str, services: ServicesDep) -> WorkerRemoved:
    if services.registry.remove(worker_id) is None:
        raise _not_registered(worker_id)
    return WorkerRemoved(removed=True)
