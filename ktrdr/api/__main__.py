"""Run the backend: ``python -m ktrdr.api`` (host and port from KTRDR_API_HOST/PORT)."""

from __future__ import annotations

import uvicorn

from ktrdr.config import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        "ktrdr.api.main:app",
        host=settings.api_host,
        port=settings.api_port,
        access_log=False,
        timeout_graceful_shutdown=30,
    )


if __name__ == "__main__":
    main()
