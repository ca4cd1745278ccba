from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from ktrdr.api.dependencies import ServicesDep, WorkerSecretDep
from ktrdr.protocol import WorkerHealth, WorkerRegistration

router = APIRouter(prefix="/workers", tags=["workers"])


@router.post("/register", dependencies=[WorkerSecretDep])
def register(registration: WorkerRegistration, services: ServicesDep) -> dict[str, Any]:
    """Add or refresh a worker; registering again is harmless."""
    info = services.registry.register(registration)
    services.dispatcher.wake()
    return info.to_api()


@router.post("/{worker_id}/heartbeat", dependencies=[WorkerSecretDep])
def heartbeat(worker_id: str, health: WorkerHealth, services: ServicesDep) -> dict[str, bool]:
    """404 tells a worker that the backend forgot it (restart): it registers again."""
    if not services.registry.seen(worker_id, health.status, health.current_operation_id):
        raise HTTPException(404, f"worker {worker_id!r} is not registered")
    if health.status == "idle":
        services.dispatcher.wake()
    return {"ok": True}


@router.get("")
def list_workers(services: ServicesDep, worker_type: str | None = None) -> list[dict[str, Any]]:
    return [
        w.to_api()
        for w in services.registry.all()
        if worker_type is None or w.worker_type == worker_type
    ]


@router.get("/{worker_id}")
def get_worker(worker_id: str, services: ServicesDep) -> dict[str, Any]:
    info = services.registry.get(worker_id)
    if info is None:
        raise HTTPException(404, f"worker {worker_id!r} is not registered")
    return info.to_api()


@router.delete("/{worker_id}", dependencies=[WorkerSecretDep])
def deregister(worker_id: str, services: ServicesDep) -> dict[str, bool]:
    if services.registry.remove(worker_id) is None:
        raise HTTPException(404, f"worker {worker_id!r} is not registered")
    return {"removed": True}
