"""ASGI entry point: ``uvicorn ktrdr.api.main:app``; settings come from the environment."""

from ktrdr.control.api.app import create_app
from ktrdr.core.settings import get_settings

app = create_app(get_settings())
