"""An agent's research loop through the ``mcp-local`` container, as an agent attaches to it.

The SDK's own client launches ``docker exec -i <container> python -m ktrdr.mcp`` (the
stdio attach of docs/mcp.md) and drives: health, upload the canary strategy, train and
wait, backtest the new model and wait, read the results. Run by ``make env-verify``
against the local environment.
"""

from __future__ import annotations

from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client

from ktrdr.infra.canary import SMOKE
from ktrdr.infra.engine import client_env


class McpDrillError(RuntimeError):
    pass


async def _call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await session.call_tool(tool, arguments)
    if result.is_error or result.structured_content is None:
        text = " ".join(getattr(block, "text", "") for block in result.content)
        raise McpDrillError(f"{tool}: {text[:300]}")
    return result.structured_content


async def _research_loop(docker: str, container: str) -> dict[str, Any]:
    # The SDK starts a stdio server with a minimal environment (HOME, PATH...): the docker
    # client would lose DOCKER_HOST and look for the system engine instead of this one.
    params = StdioServerParameters(
        command=docker,
        args=["exec", "-i", container, "python", "-m", "ktrdr.mcp"],
        env=client_env(),
    )
    async with (
        stdio_client(params) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = {tool.name for tool in (await session.list_tools()).tools}
        health = await _call(session, "check_backend_health")
        await _call(session, "upload_strategy", name="canary_smoke", yaml_text=SMOKE, replace=True)
        started = await _call(session, "start_training", strategy_name="canary_smoke")
        trained = await _call(
            session, "get_operation_status", operation_id=started["operation_id"], wait_seconds=120
        )
        if trained["status"] != "completed":
            raise McpDrillError(f"training {trained['status']}: {trained.get('error')}")
        model_id = trained["result"]["model_id"]
        backtest = await _call(
            session, "start_backtest", strategy_name="canary_smoke", model_path=model_id
        )
        done = await _call(
            session, "get_operation_status", operation_id=backtest["operation_id"], wait_seconds=120
        )
        if done["status"] != "completed":
            raise McpDrillError(f"backtest {done['status']}: {done.get('error')}")
        results = await _call(
            session, "get_operation_results", operation_id=backtest["operation_id"], max_items=3
        )
        metrics = results["result"]["metrics"]
        return {
            "tools": len(tools),
            "workers": health["workers"],
            "model_id": model_id,
            "num_trades": metrics["num_trades"],
            "total_return": metrics["total_return"],
        }


def research_through_container(docker: str, container: str) -> dict[str, Any]:
    """Train and backtest through the container's MCP server; a summary of what it did."""
    return anyio.run(_research_loop, docker, container)
