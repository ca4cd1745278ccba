"""Is the backend there, and which workers does it have."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from ktrdr.core.api_models import Worker
from ktrdr.core.enums import WorkerType
from ktrdr.mcp.backend import Backend
from ktrdr.mcp.errors import reports_errors
from ktrdr.mcp.models import BackendHealth
from ktrdr.mcp.tools.common import READ_ONLY


def register(server: MCPServer, backend: Backend) -> None:
    guarded = reports_errors(backend.url)

    @server.tool(annotations=READ_ONLY)
    @guarded
    async def check_backend_health() -> BackendHealth:
        """Check that the ktrdr backend answers, its database works, and which workers it has.

        Call this first. Trainings need a training worker and backtests a backtest worker
        (`workers` counts them by type); without one, operations wait as `pending`. An
        unreachable backend is reported as a tool error naming the URL tried.
        """
        health = await backend.call(backend.client.health)
        return BackendHealth(**health.model_dump(), api_url=backend.url)

    @server.tool(annotations=READ_ONLY)
    @guarded
    async def list_workers(worker_type: WorkerType | None = None) -> list[Worker]:
        """The workers registered with the backend: type, idle or busy, the operation each runs,
        and capabilities (GPU, torch version). Training goes to GPU workers first."""
        return await backend.call(backend.client.workers, worker_type)
