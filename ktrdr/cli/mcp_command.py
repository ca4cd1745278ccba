"""``ktrdr mcp``: the MCP server in the foreground (``python -m ktrdr.mcp``)."""

from __future__ import annotations

import os

import typer

from ktrdr.cli.processes import mcp_command
from ktrdr.core.errors import InvalidInputError

TRANSPORTS = ("stdio", "http")


def mcp(
    transport: str = typer.Option(
        "stdio", help="stdio (an agent launches it) or http (streamable HTTP, remote agents)."
    ),
    host: str = typer.Option(None, help="HTTP bind address (default KTRDR_MCP_HOST)."),
    port: int = typer.Option(None, help="HTTP port (default KTRDR_MCP_PORT, 8010)."),
    api_url: str = typer.Option(None, help="The backend (default KTRDR_API_URL)."),
) -> None:
    """Run the MCP server an agent drives research through; it talks to the backend at
    KTRDR_API_URL and sends KTRDR_API_TOKEN on (over HTTP it requires that token too)."""
    if transport not in TRANSPORTS:
        choices = ", ".join(TRANSPORTS)
        raise InvalidInputError(f"--transport must be one of {choices}", field="--transport")
    env = {**os.environ}
    if api_url:
        env["KTRDR_API_URL"] = api_url
    arguments = ["--transport", transport]
    if host:
        arguments += ["--host", host]
    if port:
        arguments += ["--port", str(port)]
    command = mcp_command(*arguments)
    os.execve(command[0], command, env)
