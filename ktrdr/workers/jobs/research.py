"""The research worker's job: drive a walk-forward or a sweep through its children."""

from __future__ import annotations

from typing import Any

from ktrdr.compute.research.sweep import SweepDriver
from ktrdr.compute.research.waiting import DriverContext
from ktrdr.compute.research.walkforward import run_walkforward
from ktrdr.control.db.engine import create_database_engine
from ktrdr.control.db.migrate import current_revision
from ktrdr.core.enums import OperationType
from ktrdr.core.errors import ConflictError
from ktrdr.core.protocol import OperationDispatch, SweepParams, WalkForwardParams
from ktrdr.research.strategies import parse_strategy
from ktrdr.workers.context import JobContext
from ktrdr.workers.parent_link import RemoteChildren


def run_research_job(ctx: JobContext, dispatch: OperationDispatch) -> dict[str, Any]:
    """Run the dispatched parent's driver; returns the walk-forward or sweep result."""
    if ctx.backend is None:
        raise ConflictError("a driver needs its worker's link to the backend")
    strategy = parse_strategy(dispatch.strategy_yaml, source="dispatched strategy")
    children = RemoteChildren(
        ctx.backend, ctx.worker_id, dispatch.attempt, dispatch.operation_id, ctx.cancel
    )
    params = dispatch.params
    driving = DriverContext(children, ctx.cancel, ctx.progress)
    if dispatch.operation_type == OperationType.WALKFORWARD:
        assert isinstance(params, WalkForwardParams)
        return run_walkforward(strategy, params, ctx.data, driving)
    assert isinstance(params, SweepParams)
    check_ktrdr_database(ctx.settings.database)
    driver = SweepDriver(
        dispatch.operation_id,
        strategy,
        dispatch.strategy_yaml,
        params,
        ctx.settings.database,
        driving,
    )
    return driver.run()


def check_ktrdr_database(url: str) -> None:
    """The study goes into ktrdr's own database: it must be one the backend migrated.

    Optuna would otherwise stamp its own revision into the shared ``alembic_version``.
    """
    engine = create_database_engine(url)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    if revision is None:
        raise ConflictError(
            "KTRDR_DATABASE_URL of this worker names no ktrdr database (no migrations ran "
            "there): give it the backend's database URL"
        )
