"""``python -m ktrdr.mcp [--transport stdio|http] [--host H] [--port P]``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ktrdr.core.logging_setup import configure_logging, get_logger
from ktrdr.core.server import serve
from ktrdr.core.settings import Settings, get_settings
from ktrdr.mcp.backend import Backend
from ktrdr.mcp.http import MCP_PATH, http_app
from ktrdr.mcp.server import build_server

TRANSPORTS = ("stdio", "http")
log = get_logger(__name__)


def parse_args(argv: Sequence[str] | None, settings: Settings) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ktrdr.mcp",
        description="ktrdr's MCP server, a client of the backend at KTRDR_API_URL.",
    )
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="stdio",
        help="stdio (default: what an agent launches) or streamable HTTP",
    )
    parser.add_argument("--host", default=settings.mcp_host, help="HTTP: KTRDR_MCP_HOST")
    parser.add_argument("--port", type=int, default=settings.mcp_port, help="HTTP: KTRDR_MCP_PORT")
    return parser.parse_args(argv)


def run(transport: str, host: str, port: int, settings: Settings) -> None:
    """Serve until the client goes away (stdio) or until SIGTERM / SIGINT (HTTP)."""
    configure_logging(settings.log_level, settings.log_format)
    backend = Backend.from_settings(settings)
    server = build_server(backend)
    try:
        if transport == "stdio":
            server.run("stdio")
        else:
            log.info(
                "mcp_http",
                url=f"http://{host}:{port}{MCP_PATH}",
                backend=backend.url,
                token_required=bool(settings.api_token),
            )
            serve(http_app(server, host, settings.api_token), host, port)
    finally:
        backend.close()


def main(argv: Sequence[str] | None = None) -> None:
    settings = get_settings()
    args = parse_args(argv, settings)
    run(args.transport, args.host, args.port, settings)
