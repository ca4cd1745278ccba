"""Operations (trainings and backtests): list, wait for, cancel, read results and metrics."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from ktrdr.core.api_models import Operation
from ktrdr.core.enums import ACTIVE_STATUSES, OperationStatus, OperationType
from ktrdr.core.logging_setup import get_logger
from ktrdr.mcp.backend import Backend
from ktrdr.mcp.errors import ToolArgumentError, reports_errors
from ktrdr.mcp.limits import MAX_OPERATIONS, MAX_WAIT_SECONDS, bound_lists
from ktrdr.mcp.models import (
    Cancelled,
    OperationList,
    OperationMetrics,
    OperationState,
    Results,
)
from ktrdr.mcp.tools.common import (
    DEFAULT_ITEMS,
    DESTRUCTIVE_IDEMPOTENT,
    READ_ONLY,
    MaxItems,
    OperationId,
)
from ktrdr.mcp.waiting import wait_for_operation

log = get_logger(__name__)
WaitSeconds = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_WAIT_SECONDS,
        description=f"Block until the operation ends, at most this long (max "
        f"{MAX_WAIT_SECONDS:g} s; 0: answer at once). Call again while `terminal` is false.",
    ),
]
OperationLimit = Annotated[int, Field(ge=1, le=MAX_OPERATIONS)]


def register(server: MCPServer, backend: Backend) -> None:
    guarded = reports_errors(backend.url)

    @server.tool(annotations=READ_ONLY)
    @guarded
    async def list_operations(
        operation_type: OperationType | None = None,
        status: OperationStatus | None = None,
        active_only: bool = False,
        limit: OperationLimit = 10,
    ) -> OperationList:
        """Operations newest first, without their results: type (training, backtesting),
        status, progress, strategy, parameters, worker, error. active_only: only pending
        and running ones. Use it to find earlier trainings and backtests to compare."""
        if active_only and status is not None and status not in ACTIVE_STATUSES:
            raise ToolArgumentError(
                f"active_only lists pending and running operations, not {status}",
                field="status",
            )
        statuses = [status] if status else sorted(ACTIVE_STATUSES) if active_only else [None]
        found, total = [], 0
        for wanted in statuses:
            page = await backend.call(
                backend.client.operations, status=wanted, type=operation_type, limit=limit
            )
            found += page.operations
            total += page.total
        found.sort(key=lambda op: op.created_at, reverse=True)
        return OperationList(operations=found[:limit], total=total, returned=len(found[:limit]))

    @server.tool(annotations=READ_ONLY)
    @guarded
    async def get_operation_status(
        operation_id: OperationId,
        ctx: Context,
        wait_seconds: WaitSeconds = 0.0,
        max_items: MaxItems = DEFAULT_ITEMS,
    ) -> OperationState:
        """Status, progress, error and (once completed) result of an operation. With
        wait_seconds it blocks until the operation ends or that time is up, reporting
        progress meanwhile: after start_training, call it with wait_seconds=60 until
        `terminal` is true instead of polling. A completed training's result has
        `model_id`; a completed backtest's has `metrics`."""
        state, waited = await wait_for_operation(backend, operation_id, wait_seconds, ctx)
        return operation_state(state, waited, max_items)

    @server.tool(annotations=DESTRUCTIVE_IDEMPOTENT)
    @guarded
    async def cancel_operation(operation_id: OperationId, reason: str | None = None) -> Cancelled:
        """Cancel a pending or running operation; a running one is told to stop and its
        worker takes the next job. Cancelling a finished operation is refused (409).
        `reason` is logged by the MCP server; the backend does not store it."""
        log.info("cancel_operation", operation_id=operation_id, reason=reason)
        summary = await backend.call(backend.client.cancel, operation_id)
        return Cancelled(**summary.model_dump(), reason=reason)

    @server.tool(annotations=READ_ONLY)
    @guarded
    async def get_operation_results(
        operation_id: OperationId, max_items: MaxItems = DEFAULT_ITEMS
    ) -> Results:
        """The result of a completed operation (an unfinished one is refused, 409). Training:
        model_id, epochs, rows, data ranges, loss and accuracy per split. Backtest: metrics
        (total and annualized return, Sharpe, Sortino, max drawdown, win rate, profit
        factor, trades), the window used, signal counts, trades and equity curve (sampled
        down to max_items)."""
        results = await backend.call(backend.client.results, operation_id)
        bounded, cut = bound_lists(results.result, max_items)
        return Results(**results.model_dump(exclude={"result"}), result=bounded, truncated=cut)

    @server.tool(annotations=READ_ONLY)
    @guarded
    async def get_operation_metrics(
        operation_id: OperationId, max_items: MaxItems = DEFAULT_ITEMS
    ) -> OperationMetrics:
        """The numbers to judge an operation by. Training: loss and accuracy on the train,
        validation and test splits, the per-epoch history (train_loss, val_loss,
        val_accuracy), best_epoch and epochs_since_improvement (a large gap with rising
        val_loss means overfitting). Backtest: its metrics; of several symbols, the first
        symbol's, with per_symbol and combined (equal weight). While it runs: progress
        only."""
        state = await backend.call(backend.client.operation, operation_id)
        return await operation_metrics(backend, state, max_items)


def operation_state(state: Operation, waited: float, max_items: int) -> OperationState:
    bounded, cut = bound_lists(state.result, max_items)
    return OperationState(
        **state.model_dump(exclude={"result"}),
        result=bounded,
        terminal=state.is_terminal,
        waited_seconds=waited,
        truncated={f"result.{path}": size for path, size in cut.items()},
    )


async def operation_metrics(backend: Backend, state: Operation, max_items: int) -> OperationMetrics:
    result: dict[str, Any] = state.result or {}
    common = {
        "operation_id": state.id,
        "type": state.type,
        "status": state.status,
        "progress": state.progress,
        "model_id": result.get("model_id"),
    }
    if state.status != OperationStatus.COMPLETED or not result:
        return OperationMetrics(**common, metrics=None)
    if state.type == OperationType.BACKTESTING:
        per_symbol = result.get("per_symbol")
        return OperationMetrics(
            **common,
            metrics=result.get("metrics"),
            per_symbol={s: part.get("metrics") for s, part in per_symbol.items()}
            if isinstance(per_symbol, dict)
            else None,
            combined=(result.get("combined") or {}).get("metrics"),
        )
    stored = await backend.call(backend.client.model, result["model_id"])
    history = list(stored.metrics.get("history") or [])
    best = stored.metrics.get("best_epoch")
    bounded, cut = bound_lists(history, max_items)
    return OperationMetrics(
        **common,
        metrics={split: stored.metrics.get(split) for split in ("train", "validation", "test")},
        history=bounded,
        best_epoch=best,
        epochs_since_improvement=len(history) - best if best else None,
        truncated={f"history{path.removeprefix('.')}": size for path, size in cut.items()},
    )
