"""Messages between the backend and its workers (plain pydantic, no compute).

Backend -> worker:   POST {worker}/operations           OperationDispatch   -> 202 | 409 busy
                     POST {worker}/operations/{id}/cancel                     -> 202 | 404
                     GET  {worker}/health               -> WorkerHealth
Worker -> backend:   POST /api/v1/workers/register      WorkerRegistration
                     POST /api/v1/workers/{id}/heartbeat WorkerHealth   -> 200 | 404 re-register
                     DELETE /api/v1/workers/{id}
                     POST /api/v1/operations/{id}/progress  ProgressReport
                     POST /api/v1/operations/{id}/finish    FinishReport

Every call carries ``X-Ktrdr-Worker-Secret`` when ``KTRDR_WORKER_SECRET`` is set.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

WORKER_SECRET_HEADER = "X-Ktrdr-Worker-Secret"
WorkerType = Literal["backtesting", "training"]
OperationType = Literal["training", "backtesting"]
OperationStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


class WorkerCapabilities(BaseModel):
    gpu: bool = False
    device: str = "cpu"
    torch_version: str | None = None
    cuda_version: str | None = None


class WorkerRegistration(BaseModel):
    worker_id: str = Field(pattern=r"^[A-Za-z0-9._:-]{1,128}$")
    worker_type: WorkerType
    endpoint_url: str = Field(pattern=r"^https?://", max_length=512)
    capabilities: WorkerCapabilities = Field(default_factory=WorkerCapabilities)
    # The operation the worker is running right now (after a backend restart).
    current_operation_id: str | None = None


class WorkerHealth(BaseModel):
    worker_id: str
    worker_type: WorkerType
    status: Literal["idle", "busy", "stopping"]
    current_operation_id: str | None = None


class OperationDispatch(BaseModel):
    operation_id: str
    operation_type: OperationType
    strategy_yaml: str  # the strategy travels with the job: no baked-in copy needed
    params: dict[str, Any] = Field(default_factory=dict)


class ProgressReport(BaseModel):
    worker_id: str
    percent: float = Field(ge=0, le=100)
    message: str = ""
    items_done: int = 0
    items_total: int = 0
    details: dict[str, Any] = Field(default_factory=dict)


class FinishReport(BaseModel):
    worker_id: str
    status: Literal["completed", "failed", "cancelled"]
    result: dict[str, Any] | None = None
    error: str | None = None
