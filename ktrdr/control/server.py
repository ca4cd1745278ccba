"""Run the backend: ``python -m ktrdr.api``, ``ktrdr serve`` and ``ktrdr up`` all come here."""

from __future__ import annotations

from ktrdr.control.api.app import create_app
from ktrdr.core.logging_setup import configure_logging
from ktrdr.core.server import serve
from ktrdr.core.settings import Settings


def run_backend(settings: Settings) -> None:
    """Serve the backend on KTRDR_API_HOST:KTRDR_API_PORT until stopped."""
    configure_logging(settings.log_level, settings.log_format)
    serve(create_app(settings), settings.api_host, settings.api_port)
