"""ASGI entry point: ``uvicorn ktrdr.api.main:app``."""

from ktrdr.api.app import create_app

app = create_app()
