"""Research at scale: walk-forward and sweep parents, and the children their drivers make.

A parent is an operation like any other, run by a research worker (its driver); the
driver creates its children here, with its worker token and its parent's attempt, and
the dispatcher hands them to free training and backtest workers in parallel. Everything
lives in the database, so a backend restart loses nothing and a re-queued driver finds
its children again by their keys.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import ValidationError

from ktrdr.control.api.dependencies import ServicesDep, WorkerToken, worker_call
from ktrdr.control.api.errors import CONFLICT_RESPONSE, ERROR_RESPONSES
from ktrdr.control.api.metrics import OPERATIONS_STARTED
from ktrdr.control.api.routers.operations import (
    OperationIdPath,
    StaleAttemptError,
    StrategyName,
    queue_request,
    requested_strategy,
    start_route,
)
from ktrdr.control.api.services import Services
from ktrdr.core.api_models import (
    ChildCreated,
    Operation,
    OperationChildren,
    OperationStarted,
    OperationSummary,
    Problem,
)
from ktrdr.core.enums import OperationStatus, OperationType
from ktrdr.core.errors import ConflictError, InvalidInputError, NotFoundError
from ktrdr.core.protocol import (
    MAX_FOLDS,
    PARAMS_BY_TYPE,
    ChildCancel,
    ChildRequest,
    SweepParams,
    WalkForwardParams,
)
from ktrdr.research.scale.folds import walkforward_plan
from ktrdr.research.scale.space import check_space
from ktrdr.research.strategies import parse_strategy
from ktrdr.research.strategies.bounded_yaml import load_bounded
from ktrdr.research.strategies.job_params import check_job_params

router = APIRouter(tags=["research"], responses=ERROR_RESPONSES)
_FENCED = {409: {"model": Problem, "description": "Not this driver's parent attempt: stop"}}
ChildKeyPath = Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class WalkForwardRequest(WalkForwardParams):
    strategy_name: StrategyName


class SweepRequest(SweepParams):
    strategy_name: StrategyName


@start_route(router, "/walkforward/start")
def start_walkforward(request: WalkForwardRequest, services: ServicesDep) -> OperationStarted:
    """Queue a walk-forward: per fold a training on its window, then a backtest of that
    model on the bars after it; the result stitches the out-of-sample equity."""
    text, config = requested_strategy(services, request.strategy_name)
    walkforward_plan(config, request, services.data)  # 422 naming the field, before queuing
    return queue_request(services, OperationType.WALKFORWARD, request, config, text)


@start_route(router, "/sweeps/start")
def start_sweep(request: SweepRequest, services: ServicesDep) -> OperationStarted:
    """Queue a sweep: Optuna trials (a training, then a backtest on its validation split),
    the best strategy saved as a new strategy file and backtested once on the test split."""
    text, config = requested_strategy(services, request.strategy_name)
    check_space(request.space, load_bounded(text), source="space")
    if request.resume is not None:
        earlier = services.operations.get(request.resume)
        if earlier.type != OperationType.SWEEP or earlier.strategy_name != config.name:
            raise InvalidInputError(
                f"operation {request.resume} is not a sweep of {config.name!r}", field="resume"
            )
        if not earlier.status.is_terminal:  # two drivers of one study would fight over it
            raise ConflictError(
                f"sweep {request.resume} is still {earlier.status}: resume it once it has ended",
                field="resume",
            )
    return queue_request(services, OperationType.SWEEP, request, config, text)


def _children_of(services: Services, parent_id: str) -> OperationChildren:
    services.operations.get(parent_id)  # 404 for an unknown parent
    counts, total = services.operations.child_counts(parent_id)
    finished = sum(n for status, n in counts.items() if status.is_terminal)
    return OperationChildren(
        parent_id=parent_id,
        children=services.operations.children(parent_id),
        counts=counts,
        finished=finished,
        total=total,
    )


@router.get("/operations/{operation_id}/children", response_model=OperationChildren)
def list_children(operation_id: OperationIdPath, services: ServicesDep) -> OperationChildren:
    """A parent's children, oldest first, and how many have finished."""
    return _children_of(services, operation_id)


def _fenced_parent(
    services: Services, parent_id: str, request: ChildRequest | ChildCancel, token: str | None
) -> Operation:
    """The parent, once the request's worker is authenticated, if that worker runs its
    attempt in force; else 409 (stop driving)."""
    services.registry.authenticate(request.worker_id, token)
    parent = services.operations.get(parent_id)
    if not parent.type.is_parent:
        raise NotFoundError(f"operation {parent_id} is no parent", field="operation_id")
    in_force = services.operations.attempt_of(parent_id) == request.attempt
    if (
        parent.status != OperationStatus.RUNNING
        or parent.worker_id != request.worker_id
        or not in_force
    ):
        raise StaleAttemptError(
            f"operation {parent_id} is not this driver's to run (re-queued, cancelled or "
            "ended): stop",
            field="attempt",
        )
    return parent


def _max_children(parent: Operation) -> int:
    if parent.type == OperationType.SWEEP:
        return 2 * int(parent.params.get("trials", 1)) + 1  # trials, and the final backtest
    return 2 * MAX_FOLDS


@worker_call(router, "POST", "/operations/{operation_id}/children", ChildCreated, _FENCED)
def create_child(
    operation_id: OperationIdPath,
    request: ChildRequest,
    services: ServicesDep,
    token: WorkerToken = None,
) -> ChildCreated:
    """A driver's child: queued now, or the one already under this key (idempotent)."""
    parent = _fenced_parent(services, operation_id, request, token)
    existing = services.operations.child(operation_id, request.key)
    if existing is not None:
        return ChildCreated(operation_id=existing.id, status=existing.status, created=False)
    try:
        params = PARAMS_BY_TYPE[request.type].model_validate(request.params)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInputError(
            f"params.{where}: {first['msg']}", field=f"params.{where}"
        ) from None
    text = request.strategy_yaml or services.operations.strategy_yaml(operation_id)
    config = parse_strategy(text, source=f"child {request.key}")
    if config.name != parent.strategy_name:
        raise InvalidInputError(
            f"a child runs strategy {parent.strategy_name!r}, not {config.name!r}",
            field="strategy_yaml",
        )
    check_job_params(params, config)
    child, created = services.operations.create_child(
        operation_id,
        request.key,
        request.type,
        config.name,
        text,
        params.model_dump(mode="json", exclude_none=True),
        _max_children(parent),
    )
    if created:
        OPERATIONS_STARTED.labels(request.type).inc()
        services.dispatcher.wake()
    return ChildCreated(operation_id=child.id, status=child.status, created=created)


@worker_call(
    router,
    "POST",
    "/operations/{operation_id}/children/{key}/cancel",
    OperationSummary,
    {**_FENCED, **CONFLICT_RESPONSE},
)
def cancel_child(
    operation_id: OperationIdPath,
    key: ChildKeyPath,
    request: ChildCancel,
    services: ServicesDep,
    token: WorkerToken = None,
) -> OperationSummary:
    """A driver stops one of its children (a pruned trial); its worker is told to stop."""
    _fenced_parent(services, operation_id, request, token)
    child = services.operations.child(operation_id, key)
    if child is None:
        raise NotFoundError(f"operation {operation_id} has no child {key!r}", field="key")
    record = services.operations.cancel(child.id, request.reason)
    worker = services.registry.get(child.worker_id or "")
    if child.status == OperationStatus.RUNNING and worker is not None:
        services.worker_client.cancel(worker.endpoint_url, child.id)
    return record.summary()
