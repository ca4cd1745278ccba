from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from ktrdr import __version__
from ktrdr.control.api.dependencies import ServicesDep
from ktrdr.control.api.errors import ERROR_RESPONSES
from ktrdr.core.api_models import Health

router = APIRouter(tags=["health"], responses=ERROR_RESPONSES)


@router.get("/health", response_model=Health)
def health(services: ServicesDep) -> Health:
    """Liveness, database reachability and registered workers by type."""
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception as error:  # reported, not raised: health must answer
        database = f"error: {type(error).__name__}"
    workers = services.registry.counts()
    return Health(
        status="ok" if database == "ok" else "degraded",
        version=__version__,
        database=database,
        workers={kind: sum(by_status.values()) for kind, by_status in workers.items()},
        workers_by_status=workers,
        operations=services.operations.counts_by_status(),
    )
