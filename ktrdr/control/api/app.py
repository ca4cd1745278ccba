"""The backend application: routers, error handlers, metrics and background services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ktrdr import __version__
from ktrdr.control.api.dashboard import install_dashboard
from ktrdr.control.api.errors import install_error_handlers
from ktrdr.control.api.metrics import install_metrics
from ktrdr.control.api.middleware import BodyLimits, RequestContext
from ktrdr.control.api.routers import (
    catalogue,
    data,
    health,
    models,
    operations,
    reports,
    research,
    strategies,
    workers,
)
from ktrdr.control.api.services import Services
from ktrdr.control.db.engine import create_database_engine
from ktrdr.control.db.migrate import upgrade_to_head
from ktrdr.core.logging_setup import configure_logging, get_logger
from ktrdr.core.settings import Settings
from ktrdr.research.strategies.loader import MAX_STRATEGY_BYTES

API_PREFIX = "/api/v1"
log = get_logger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """The backend for ``settings``; its services start with the app's lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level, settings.log_format)
        engine = create_database_engine(settings.database)
        revision = upgrade_to_head(engine)  # migrations run on every start: no manual step
        services = Services.build(settings, engine)
        app.state.services = services
        services.start()
        log.info("backend_started", database_revision=revision, version=__version__)
        try:
            yield
        finally:
            services.stop()

    app = FastAPI(
        title="ktrdr",
        version=__version__,
        lifespan=lifespan,
        docs_url=f"{API_PREFIX}/docs",
        openapi_url=f"{API_PREFIX}/openapi.json",
        redoc_url=None,
    )
    for module in (
        health,
        data,
        catalogue,
        strategies,
        operations,
        research,
        reports,
        workers,
        models,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    install_error_handlers(app)
    install_metrics(app)
    install_dashboard(app)
    limits = BodyLimits(
        upload=settings.max_upload_bytes,
        strategy=min(settings.max_upload_bytes, MAX_STRATEGY_BYTES),
        default=settings.max_request_bytes,
    )
    app.add_middleware(RequestContext, limits=limits)
    return app
