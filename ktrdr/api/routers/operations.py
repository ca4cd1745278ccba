from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import httpx
from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field, field_validator

from ktrdr.api.dependencies import ServicesDep, TokenDep, WorkerSecretDep
from ktrdr.api.metrics import OPERATIONS_FINISHED, OPERATIONS_STARTED
from ktrdr.data.symbols import validate_symbol, validate_timeframe
from ktrdr.models.registry import get_model
from ktrdr.protocol import FinishReport, OperationStatus, OperationType, ProgressReport
from ktrdr.strategies import parse_strategy, resolve_strategy_path
from ktrdr.strategies.schema import IDENTIFIER

router = APIRouter(tags=["operations"])


class _StartRequest(BaseModel):
    strategy_name: str = Field(pattern=IDENTIFIER.pattern)
    start_date: dt.date | None = None
    end_date: dt.date | None = None


class TrainingRequest(_StartRequest):
    symbols: list[str] | None = None
    timeframes: list[str] | None = None

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: list[str] | None) -> list[str] | None:
        return [validate_symbol(s) for s in value] if value else None

    @field_validator("timeframes")
    @classmethod
    def _timeframes(cls, value: list[str] | None) -> list[str] | None:
        return [validate_timeframe(t) for t in value] if value else None


class BacktestRequest(_StartRequest):
    model: str | int | None = None
    symbol: str | None = None
    timeframe: str | None = None
    initial_capital: float | None = Field(default=None, gt=0)
    commission: float | None = Field(default=None, ge=0, lt=1)
    slippage: float | None = Field(default=None, ge=0, lt=1)
    position_size: float | None = Field(default=None, gt=0, le=1)

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str | None) -> str | None:
        return validate_symbol(value) if value else None

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, value: str | None) -> str | None:
        return validate_timeframe(value) if value else None


def _enqueue(services: Any, op_type: str, request: _StartRequest) -> dict[str, str]:
    path = resolve_strategy_path(request.strategy_name, services.settings.strategies_dir)
    text = path.read_text(encoding="utf-8")
    config = parse_strategy(text, source=f"strategy {request.strategy_name!r}")
    params = request.model_dump(mode="json", exclude={"strategy_name"}, exclude_none=True)
    base_tf = config.training_data.base_timeframe
    if isinstance(request, TrainingRequest) and request.timeframes not in (
        None,
        config.training_data.timeframes,
    ):
        raise ValueError(f"timeframes must be {config.training_data.timeframes} for this strategy")
    if isinstance(request, BacktestRequest):
        if request.timeframe not in (None, base_tf):
            raise ValueError(f"timeframe must be {base_tf}, the strategy's trading timeframe")
        if isinstance(request.model, str) and "/" in request.model:
            get_model(services.settings.models_path, request.model)  # 404 now, not later
    operation = services.operations.create(op_type, config.name, text, params)
    OPERATIONS_STARTED.labels(op_type).inc()
    services.dispatcher.wake()
    return {"operation_id": operation.id, "status": operation.status}


@router.post("/trainings/start", dependencies=[TokenDep])
def start_training(request: TrainingRequest, services: ServicesDep) -> dict[str, str]:
    """Queue a training; it runs as soon as a training worker (GPU first) is free."""
    return _enqueue(services, "training", request)


@router.post("/backtests/start", dependencies=[TokenDep])
def start_backtest(request: BacktestRequest, services: ServicesDep) -> dict[str, str]:
    """Queue a backtest; it runs on the least recently used free backtest worker."""
    return _enqueue(services, "backtesting", request)


@router.get("/operations")
def list_operations(
    services: ServicesDep,
    status: OperationStatus | None = None,
    type: OperationType | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    records, total = services.operations.list(status, type, limit, offset)
    return {
        "operations": [r.to_api(include_result=False) for r in records],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.get("/operations/{operation_id}")
def get_operation(operation_id: str, services: ServicesDep) -> dict[str, Any]:
    return services.operations.get(operation_id).to_api()


@router.get("/operations/{operation_id}/results")
def get_results(operation_id: str, services: ServicesDep) -> dict[str, Any]:
    record = services.operations.get(operation_id)
    if record.status != "completed":
        raise HTTPException(409, f"operation {operation_id} is {record.status}; no results")
    return {"operation_id": record.id, "type": record.type, "result": record.result}


@router.delete("/operations/{operation_id}", dependencies=[TokenDep])
def cancel_operation(operation_id: str, services: ServicesDep) -> dict[str, Any]:
    """Cancel a pending or running operation; a running one is told to stop."""
    before = services.operations.get(operation_id)
    record = services.operations.cancel(operation_id)
    OPERATIONS_FINISHED.labels(record.type, "cancelled").inc()
    worker = services.registry.get(before.worker_id or "") if before.status == "running" else None
    if worker is not None:
        # The worker may be gone; the supervisor deals with that.
        with contextlib.suppress(httpx.HTTPError):
            services.worker_client.cancel(worker.endpoint_url, operation_id)
    return record.to_api(include_result=False)


@router.post("/operations/{operation_id}/progress", dependencies=[WorkerSecretDep])
def report_progress(
    operation_id: str, report: ProgressReport, services: ServicesDep
) -> dict[str, bool]:
    progress = report.model_dump(exclude={"worker_id"})
    accepted = services.operations.update_progress(operation_id, report.worker_id, progress)
    return {"accepted": accepted}


@router.post("/operations/{operation_id}/finish", dependencies=[WorkerSecretDep])
def report_finish(
    operation_id: str, report: FinishReport, services: ServicesDep
) -> dict[str, bool]:
    record = services.operations.get(operation_id)  # 404 for an unknown operation
    accepted = services.operations.finish(
        operation_id, report.worker_id, report.status, report.result, report.error
    )
    if accepted:
        OPERATIONS_FINISHED.labels(record.type, report.status).inc()
    services.registry.release(report.worker_id, operation_id)
    services.dispatcher.wake()
    return {"accepted": accepted}
