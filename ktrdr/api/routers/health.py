from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from ktrdr import __version__
from ktrdr.api.dependencies import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(services: ServicesDep) -> dict[str, Any]:
    """Liveness, database reachability and registered workers by type."""
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception as error:  # reported, not raised: health must answer
        database = f"error: {type(error).__name__}"
    workers = services.registry.counts()
    return {
        "status": "ok" if database == "ok" else "degraded",
        "version": __version__,
        "database": database,
        "workers": {kind: sum(by_status.values()) for kind, by_status in workers.items()},
        "workers_by_status": workers,
        "operations": services.operations.counts_by_status(),
    }
