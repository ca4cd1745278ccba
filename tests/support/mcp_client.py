"""The MCP server as an agent meets it: a real process, driven by the SDK's own client.

async with stdio_session(api_url, token, errlog) as session:   # python -m ktrdr.mcp
    result = await call(session, "check_backend_health")
    body = structured(result)                                  # fails on a tool error

with McpHttpServer(api_url, token, log_path) as server:        # --transport http
    async with http_session(server.url, token) as session: ...
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx2
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from tests.support.fake_backend import free_port, wait_for
from tests.support.http import answers_ok

MCP_MODULE_COMMAND = [sys.executable, "-m", "ktrdr.mcp"]
CLI_COMMAND = [sys.executable, "-m", "ktrdr.cli.main", "mcp"]


def server_env(api_url: str, token: str | None) -> dict[str, str]:
    env = {"KTRDR_API_URL": api_url, "KTRDR_LOG_LEVEL": "INFO"}
    if token:
        env["KTRDR_API_TOKEN"] = token
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


@asynccontextmanager
async def stdio_session(
    api_url: str,
    token: str | None,
    errlog: TextIO,
    command: Sequence[str] = MCP_MODULE_COMMAND,
) -> AsyncIterator[ClientSession]:
    """An initialised session with ``command`` (the MCP server over stdio) as a subprocess."""
    params = StdioServerParameters(
        command=command[0], args=list(command[1:]), env=server_env(api_url, token)
    )
    async with (
        stdio_client(params, errlog=errlog) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


@asynccontextmanager
async def http_session(url: str, token: str | None) -> AsyncIterator[ClientSession]:
    """An initialised session over streamable HTTP, sending the token when given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timeout = httpx2.Timeout(30, read=300)
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout) as client,
        streamable_http_client(url, http_client=client) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> CallToolResult:
    return await session.call_tool(tool, arguments)


def structured(result: CallToolResult) -> dict[str, Any]:
    """The structured content of a successful call (a failed one fails the test)."""
    assert not result.is_error, f"tool error: {text_of(result)}"
    assert result.structured_content is not None
    return result.structured_content


def tool_error(result: CallToolResult) -> dict[str, Any]:
    """The ``error`` payload of a failed call (a successful one fails the test)."""
    assert result.is_error, f"expected a tool error, got {result.structured_content}"
    assert result.structured_content is not None, text_of(result)
    return result.structured_content["error"]


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def compact(value: Any, limit: int = 600) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class McpHttpServer:
    """``python -m ktrdr.mcp --transport http`` on a free port of 127.0.0.1."""

    api_url: str
    token: str | None
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"

    def _healthy(self) -> bool:
        return answers_ok(f"{self.base}/healthz")

    def start(self) -> McpHttpServer:
        command = [*MCP_MODULE_COMMAND, "--transport", "http", "--port", str(self.port)]
        env = {**os.environ, **server_env(self.api_url, self.token)}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: self._healthy() or self.process.poll() is not None, timeout_s=30)
        assert self.process.poll() is None, self.log_path.read_text()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=40)
        self.process = None

    def __enter__(self) -> McpHttpServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
