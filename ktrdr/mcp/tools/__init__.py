"""The tools, one module per topic; each module's ``register`` adds its tools to a server.

Names and arguments follow the original ktrdr MCP server, so prompts written for it keep
working; arguments ktrdr derives (symbols and timeframes from the strategy, dates from the
model's test split) are optional. ``trigger_data_loading`` is absent: ktrdr has no data
loading from a provider (series come bundled or through ``ktrdr data import``).
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from ktrdr.mcp.backend import Backend
from ktrdr.mcp.tools import data, operations, research, strategies, system


def register_tools(server: MCPServer, backend: Backend) -> None:
    for module in (system, data, strategies, research, operations):
        module.register(server, backend)
