"""Run the backend: ``python -m ktrdr.api`` (host and port from KTRDR_API_HOST/PORT)."""

from ktrdr.control.server import run_backend
from ktrdr.core.settings import get_settings

if __name__ == "__main__":
    run_backend(get_settings())
