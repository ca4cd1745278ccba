"""The MCP server: tools, resources and the prompt, on one backend client."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from starlette.requests import Request
from starlette.responses import JSONResponse

from ktrdr import __version__
from ktrdr.core.healthcheck import MCP_HEALTH_PATH
from ktrdr.mcp.backend import Backend
from ktrdr.mcp.resources import register_prompts, register_resources
from ktrdr.mcp.tools import register_tools

NAME = "ktrdr"
INSTRUCTIONS = """\
ktrdr researches neuro-fuzzy trading strategies: a strategy (YAML) names indicators, fuzzy
sets over them, a small neural network that says BUY/HOLD/SELL, and its training data.
Work through the backend with these tools:

- check_backend_health first: operations need a registered training / backtest worker.
- validate_strategy before upload_strategy; every issue names its YAML path.
- start_training / start_backtest return an operation_id at once; then call
  get_operation_status(operation_id, wait_seconds=60) until `terminal` is true.
- A backtest without dates runs on the model's out-of-sample test split: judge models there.
- get_operation_results and get_operation_metrics read what an operation produced;
  list_operations and list_models find earlier ones to compare with.
- Errors come back as tool errors carrying the backend's message and the field at fault.
The prompt `research_loop` spells out the whole loop.
"""


def build_server(backend: Backend) -> MCPServer:
    server: MCPServer = MCPServer(
        NAME,
        title="ktrdr research",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
    )
    register_tools(server, backend)
    register_resources(server, backend)
    register_prompts(server)

    @server.custom_route(MCP_HEALTH_PATH, methods=["GET"], include_in_schema=False)
    async def healthz(request: Request) -> JSONResponse:
        """Liveness of the MCP server itself (the backend has its own health)."""
        return JSONResponse({"status": "ok", "version": __version__})

    return server
