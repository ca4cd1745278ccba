"""Container health probe: ``python -m ktrdr.core.healthcheck [api|worker|mcp|auto]``.

It reads the port from the same settings (``KTRDR_API_PORT`` / ``KTRDR_WORKER_PORT`` /
``KTRDR_MCP_PORT``) that the process it probes listens on, so image and compose cannot
disagree. ``auto`` (the default, for the dev image that runs either role) probes the
worker when ``KTRDR_WORKER_PORT`` is set and the API otherwise.
"""

from __future__ import annotations

import sys
import urllib.request

from ktrdr.core.enums import WorkerType
from ktrdr.core.settings import get_settings

# Without KTRDR_WORKER_PORT the worker-cpu image runs a backtest worker on its default port.
DEFAULT_WORKER_TYPE = WorkerType.BACKTESTING
# The MCP server's liveness route (no token needed), next to its /mcp endpoint.
MCP_HEALTH_PATH = "/healthz"


def probe_url(role: str) -> str:
    settings = get_settings()
    if role == "auto":
        role = "worker" if settings.worker_port else "api"
    if role == "api":
        return f"http://127.0.0.1:{settings.api_port}/api/v1/health"
    if role == "worker":
        return f"http://127.0.0.1:{settings.worker_port_for(DEFAULT_WORKER_TYPE)}/health"
    if role == "mcp":
        return f"http://127.0.0.1:{settings.mcp_port}{MCP_HEALTH_PATH}"
    raise SystemExit(f"usage: python -m ktrdr.core.healthcheck api|worker|mcp (got {role!r})")


def main(argv: list[str]) -> int:
    url = probe_url(argv[1] if len(argv) > 1 else "auto")
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
