from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ktrdr.control.api.dependencies import ServicesDep, TokenDep, WorkerToken, worker_call
from ktrdr.control.api.errors import AUTH_RESPONSES, CONFLICT_RESPONSE, ERROR_RESPONSES
from ktrdr.control.api.metrics import OPERATIONS_FINISHED, OPERATIONS_STARTED
from ktrdr.control.api.parents import save_best_strategy
from ktrdr.control.api.responses import json_text_response
from ktrdr.control.api.services import Services
from ktrdr.control.operations.store import ReportOutcome
from ktrdr.control.orchestration.cascade import cancel_children
from ktrdr.core.api_models import (
    Accepted,
    Operation,
    OperationPage,
    OperationResults,
    OperationStarted,
    OperationSummary,
    Problem,
)
from ktrdr.core.enums import OperationStatus, OperationType
from ktrdr.core.errors import ConflictError, KtrdrError
from ktrdr.core.logging_setup import get_logger
from ktrdr.core.names import IDENTIFIER
from ktrdr.core.protocol import BacktestParams, FinishReport, ProgressReport, TrainingParams
from ktrdr.research.model_registry import discard_checkpoint, publish_model, resolve_model
from ktrdr.research.strategies import StrategyConfig, find_strategy, parse_strategy
from ktrdr.research.strategies.job_params import check_job_params

router = APIRouter(tags=["operations"], responses=ERROR_RESPONSES)
log = get_logger(__name__)
StrategyName = Annotated[str, Field(pattern=IDENTIFIER.pattern)]
OperationIdPath = Annotated[str, Path(max_length=64)]
_WRITE = {**AUTH_RESPONSES}


def start_route(router: APIRouter, path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A route that queues an operation: it needs the API token and answers OperationStarted."""
    return router.post(
        path, dependencies=[TokenDep], response_model=OperationStarted, responses=_WRITE
    )


class TrainingRequest(TrainingParams):
    strategy_name: StrategyName


class BacktestRequest(BacktestParams):
    strategy_name: StrategyName


def requested_strategy(services: Services, name: str) -> tuple[str, StrategyConfig]:
    """The stored strategy a start request names: its text, and the text parsed."""
    text = find_strategy(name, services.settings.strategies_dir).read_text(encoding="utf-8")
    return text, parse_strategy(text, source=f"strategy {name!r}")


def queue_request(
    services: Services,
    op_type: OperationType,
    request: BaseModel,
    config: StrategyConfig,
    text: str,
) -> OperationStarted:
    """Store a checked start request as a pending operation and wake the dispatcher."""
    params = request.model_dump(mode="json", exclude={"strategy_name"}, exclude_none=True)
    operation = services.operations.create(op_type, config.name, text, params)
    OPERATIONS_STARTED.labels(op_type).inc()
    services.dispatcher.wake()
    return OperationStarted(operation_id=operation.id, status=operation.status)


def _enqueue(
    services: Services, op_type: OperationType, request: TrainingRequest | BacktestRequest
) -> OperationStarted:
    text, config = requested_strategy(services, request.strategy_name)
    check_job_params(request, config)
    if isinstance(request, BacktestRequest) and request.model not in (None, "latest"):
        # An explicit model must exist now: a 404 here, not a failed operation later.
        resolve_model(
            services.settings.models_path,
            config.name,
            config.training_data.base_timeframe,
            request.model,
        )
    return queue_request(services, op_type, request, config, text)


@start_route(router, "/trainings/start")
def start_training(request: TrainingRequest, services: ServicesDep) -> OperationStarted:
    """Queue a training; it runs as soon as a training worker (GPU first) is free."""
    return _enqueue(services, OperationType.TRAINING, request)


@start_route(router, "/backtests/start")
def start_backtest(request: BacktestRequest, services: ServicesDep) -> OperationStarted:
    """Queue a backtest; it runs on the least recently used free backtest worker."""
    return _enqueue(services, OperationType.BACKTESTING, request)


@router.get("/operations", response_model=OperationPage)
def list_operations(
    services: ServicesDep,
    status: OperationStatus | None = None,
    type: OperationType | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=10_000_000),
    parent_id: str | None = Query(default=None, max_length=64),
) -> Response:
    """Operations newest first, without their results (``GET /operations/{id}`` has it)."""
    page = services.operations.page_json(
        status=status, op_type=type, limit=limit, offset=offset, parent_id=parent_id
    )
    return json_text_response(page)


@router.get("/operations/{operation_id}", response_model=Operation)
def get_operation(operation_id: OperationIdPath, services: ServicesDep) -> Response:
    """One operation with its result."""
    return json_text_response(services.operations.operation_json(operation_id))


@router.get(
    "/operations/{operation_id}/results",
    response_model=OperationResults,
    responses=CONFLICT_RESPONSE,
)
def get_results(operation_id: OperationIdPath, services: ServicesDep) -> OperationResults:
    record = services.operations.get(operation_id)
    if record.status != OperationStatus.COMPLETED or record.result is None:
        raise ConflictError(
            f"operation {operation_id} is {record.status}; no results", field="operation_id"
        )
    return OperationResults(operation_id=record.id, type=record.type, result=record.result)


@router.delete(
    "/operations/{operation_id}",
    dependencies=[TokenDep],
    response_model=OperationSummary,
    responses={**_WRITE, **CONFLICT_RESPONSE},
)
def cancel_operation(operation_id: OperationIdPath, services: ServicesDep) -> OperationSummary:
    """Cancel a pending or running operation; a running one is told to stop."""
    before = services.operations.get(operation_id)
    record = services.operations.cancel(operation_id)
    OPERATIONS_FINISHED.labels(record.type, OperationStatus.CANCELLED).inc()
    # Nothing resumes a cancelled training (a running one's worker drops it as well; a
    # pending one re-queued after its worker was lost has nobody else to).
    discard_checkpoint(services.settings.models_path, operation_id)
    running = before.status == OperationStatus.RUNNING
    worker = services.registry.get(before.worker_id or "") if running else None
    if worker is not None:  # a worker that is gone is the supervisor's business
        services.worker_client.cancel(worker.endpoint_url, operation_id)
    if record.type.is_parent:  # its driver stops (above), and so do its children
        cancel_children(
            services.operations,
            services.registry,
            services.worker_client,
            operation_id,
            f"parent {operation_id} cancelled",
        )
    return record.summary()


class StaleAttemptError(ConflictError):
    """A report from an attempt no longer in force: its worker must stop and discard it."""

    code = "stale_attempt"


def _in_force(outcome: ReportOutcome, operation_id: str) -> bool:
    """True when accepted, False when its own attempt was cancelled; stale: a 409."""
    if outcome == ReportOutcome.STALE:
        raise StaleAttemptError(
            f"operation {operation_id} is no longer this worker's to run (re-queued, given to "
            "another worker, or ended): stop and discard the result",
            field="attempt",
        )
    return outcome == ReportOutcome.ACCEPTED


_REPORT_RESPONSES = {409: {"model": Problem, "description": "Stale attempt: stop"}}


@worker_call(router, "POST", "/operations/{operation_id}/progress", Accepted, _REPORT_RESPONSES)
def report_progress(
    operation_id: OperationIdPath,
    report: ProgressReport,
    services: ServicesDep,
    token: WorkerToken = None,
) -> Accepted:
    services.registry.authenticate(report.worker_id, token)
    outcome = services.operations.update_progress(
        operation_id, report.worker_id, report.attempt, report.progress
    )
    return Accepted(accepted=_in_force(outcome, operation_id))


@worker_call(router, "POST", "/operations/{operation_id}/finish", Accepted, _REPORT_RESPONSES)
def report_finish(
    operation_id: OperationIdPath,
    report: FinishReport,
    services: ServicesDep,
    token: WorkerToken = None,
) -> Accepted:
    services.registry.authenticate(report.worker_id, token)
    outcome = services.operations.finish(
        operation_id, report.worker_id, report.attempt, report.status, report.result, report.error
    )
    services.registry.finished(report.worker_id, operation_id)
    services.dispatcher.wake()
    accepted = _in_force(outcome, operation_id)
    if accepted:
        record = services.operations.get(operation_id)
        OPERATIONS_FINISHED.labels(record.type, report.status).inc()
        completed = report.status == OperationStatus.COMPLETED
        # A child training (a fold, a trial) never moves `latest`: its parent decides.
        if record.type == OperationType.TRAINING and completed and record.parent_id is None:
            _publish(services, (report.result or {}).get("model_id"))
        if record.type.is_parent:
            cancel_children(
                services.operations,
                services.registry,
                services.worker_client,
                operation_id,
                f"parent {operation_id} {report.status}",
            )
            if record.type == OperationType.SWEEP and completed:
                save_best_strategy(services, record, report.result or {})
    return Accepted(accepted=accepted)


def _publish(services: Services, model_id: object) -> None:
    """Point ``latest`` at a completed training's model: only a completed operation's."""
    if not isinstance(model_id, str):
        log.error("completed_training_without_model_id")
        return
    try:
        publish_model(services.settings.models_path, model_id)
    except (KtrdrError, OSError) as error:  # the operation stays completed; say why
        log.error("model_not_published", model_id=model_id[:140], error=str(error)[:300])
