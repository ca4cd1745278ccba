"""The server in process (the SDK's in-memory client): schemas, refusals, and a backend
that is not there. Calls that reach a live backend are in tests/integration/test_mcp.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ktrdr.client import ApiClient
from ktrdr.core.healthcheck import MCP_HEALTH_PATH, probe_url
from ktrdr.core.settings import get_settings
from ktrdr.mcp.backend import Backend
from ktrdr.mcp.http import BearerTokenGate
from ktrdr.mcp.server import build_server
from tests.support.fake_backend import free_port

Scenario = Callable[[Client], Awaitable[None]]


def with_client(scenario: Scenario, api_url: str | None = None) -> None:
    """Run ``scenario`` against a server whose backend is ``api_url`` (default: nothing)."""
    backend = Backend(ApiClient(api_url or f"http://127.0.0.1:{free_port()}", timeout=2))

    async def run() -> None:
        async with Client(build_server(backend)) as client:
            await scenario(client)

    try:
        anyio.run(run)
    finally:
        backend.close()


def error_of(result: Any) -> dict[str, Any]:
    assert result.is_error
    return result.structured_content["error"]


def test_arguments_outside_their_bounds_are_refused_before_the_backend() -> None:
    async def scenario(client: Client) -> None:
        too_long = await client.call_tool(
            "get_operation_status", {"operation_id": "x", "wait_seconds": 121}
        )
        assert too_long.is_error
        assert "wait_seconds" in too_long.content[0].text
        too_many = await client.call_tool("get_market_data", {"symbol": "AAPL", "limit_bars": 201})
        assert too_many.is_error
        assert "limit_bars" in too_many.content[0].text
        neither = await client.call_tool("validate_strategy", {})
        assert error_of(neither)["code"] == "invalid_argument"
        intraday = await client.call_tool(
            "get_market_data", {"symbol": "AAPL", "timeframe": "1h", "trading_hours_only": True}
        )
        assert error_of(intraday)["field"] == "trading_hours_only"
        bad_model = await client.call_tool(
            "start_backtest", {"strategy_name": "s", "model_path": "/etc/passwd"}
        )
        assert error_of(bad_model)["field"] == "model_path"

    with_client(scenario)


def test_no_backend_is_a_tool_error_for_every_tool_that_needs_one() -> None:
    async def scenario(client: Client) -> None:
        for tool, arguments in [
            ("check_backend_health", {}),
            ("get_available_strategies", {}),
            ("start_training", {"strategy_name": "canary_smoke"}),
            ("get_operation_status", {"operation_id": "x", "wait_seconds": 5}),
        ]:
            result = await client.call_tool(tool, arguments)
            error = error_of(result)
            assert error["code"] == "backend_unreachable", tool
            assert "not reachable" in result.content[0].text
        assert len((await client.list_tools()).tools) == 21

    with_client(scenario)


def test_the_http_gate_wants_the_token_except_for_the_health_probe() -> None:
    async def ok(request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok")

    inner = Starlette(routes=[Route("/mcp", ok, methods=["POST"]), Route("/healthz", ok)])
    gate = BearerTokenGate(inner, "s3cret")

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=gate)
        async with httpx.AsyncClient(transport=transport, base_url="http://mcp") as client:
            missing = await client.post("/mcp")
            assert missing.status_code == 401
            assert missing.headers["www-authenticate"] == "Bearer"
            assert (
                await client.post("/mcp", headers={"Authorization": "Bearer no"})
            ).status_code == 401
            good = await client.post("/mcp", headers={"Authorization": "Bearer s3cret"})
            assert good.text == "ok"
            assert (await client.get("/healthz")).status_code == 200

    anyio.run(scenario)
    assert BearerTokenGate(inner, None).token is None


def test_the_health_probe_asks_the_mcp_port_it_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KTRDR_MCP_PORT", "8123")
    get_settings.cache_clear()
    try:
        assert probe_url("mcp") == f"http://127.0.0.1:8123{MCP_HEALTH_PATH}"
    finally:
        get_settings.cache_clear()
