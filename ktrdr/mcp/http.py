"""Streamable HTTP: the server's ASGI app, behind the API token when one is configured.

The same ``KTRDR_API_TOKEN`` the server sends to the backend is the one a remote agent must
present (``Authorization: Bearer <token>``): whoever may drive the backend through the MCP
server may drive it directly, and no one else. ``/healthz`` answers without it.
"""

from __future__ import annotations

import json

from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp, Receive, Scope, Send

from ktrdr.core.auth import check_bearer_token
from ktrdr.core.errors import AuthError
from ktrdr.core.healthcheck import MCP_HEALTH_PATH
from ktrdr.mcp.limits import HTTP_SESSION_IDLE_S, MAX_HTTP_REQUEST_BYTES, MAX_HTTP_SESSIONS

MCP_PATH = "/mcp"


class BearerTokenGate:
    """ASGI middleware: every HTTP request but the health probe needs the token."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.token and scope.get("path") != MCP_HEALTH_PATH:
            headers = dict(scope.get("headers") or [])
            authorization = headers.get(b"authorization", b"").decode("latin-1")
            try:
                check_bearer_token(self.token, authorization)
            except AuthError as error:
                await _refuse(send, error)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, error: AuthError) -> None:
    body = json.dumps({"detail": error.message, "code": error.code}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"www-authenticate", b"Bearer"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def http_app(server: MCPServer, host: str, token: str | None) -> ASGIApp:
    """The streamable HTTP endpoint at /mcp, sessions and request sizes bounded."""
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        host=host,
        max_sessions=MAX_HTTP_SESSIONS,
        session_idle_timeout=HTTP_SESSION_IDLE_S,
        max_request_body_size=MAX_HTTP_REQUEST_BYTES,
    )
    return BearerTokenGate(app, token)
