from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from ktrdr.control.api.dependencies import ServicesDep, WorkerToken, worker_call
from ktrdr.control.api.errors import CONFLICT_RESPONSE, ERROR_RESPONSES
from ktrdr.control.orchestration.admission import admit
from ktrdr.core.api_models import HeartbeatAnswer, Worker, WorkerRegistered, WorkerRemoved
from ktrdr.core.enums import WorkerStatus, WorkerType
from ktrdr.core.errors import NotFoundError
from ktrdr.core.protocol import WorkerHealth, WorkerRegistration

router = APIRouter(prefix="/workers", tags=["workers"], responses=ERROR_RESPONSES)


def _not_registered(worker_id: str) -> NotFoundError:
    return NotFoundError(f"worker {worker_id[:128]!r} is not registered", field="worker_id")


@worker_call(router, "POST", "/register", WorkerRegistered, CONFLICT_RESPONSE)
async def register(
    registration: WorkerRegistration, services: ServicesDep, token: WorkerToken = None
) -> WorkerRegistered:
    """Add or refresh a worker; the answer carries the token its later calls present.

    409 when the id belongs to another live worker (see orchestration.admission).
    """
    # Admission resolves the host and may probe the registered endpoint: off the loop.
    await run_in_threadpool(
        admit,
        registration,
        token,
        services.registry,
        services.worker_client,
        services.settings.worker_network_list,
    )
    info = services.registry.register(registration)
    services.dispatcher.wake()
    return WorkerRegistered(**info.view().model_dump(), token=info.token)


@worker_call(router, "POST", "/{worker_id}/heartbeat", HeartbeatAnswer)
def heartbeat(
    worker_id: str, health: WorkerHealth, services: ServicesDep, token: WorkerToken = None
) -> HeartbeatAnswer:
    """404 tells a worker that the backend forgot it (restart): it registers again."""
    if services.registry.get(worker_id) is None:
        raise _not_registered(worker_id)
    services.registry.authenticate(worker_id, token)
    services.registry.seen(worker_id, health)
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
def deregister(worker_id: str, services: ServicesDep, token: WorkerToken = None) -> WorkerRemoved:
    if services.registry.get(worker_id) is None:
        raise _not_registered(worker_id)
    services.registry.authenticate(worker_id, token)
    services.registry.remove(worker_id)
    return WorkerRemoved(removed=True)
