"""Waiting for an operation inside a tool call, so an agent need not poll."""

from __future__ import annotations

import time

import anyio
from mcp.server.mcpserver import Context

from ktrdr.core.api_models import Operation
from ktrdr.mcp.backend import Backend
from ktrdr.mcp.limits import MAX_WAIT_SECONDS, POLL_INTERVAL_S


async def wait_for_operation(
    backend: Backend, operation_id: str, seconds: float, ctx: Context | None = None
) -> tuple[Operation, float]:
    """The operation once it ends or ``seconds`` (at most MAX_WAIT_SECONDS) have passed,
    and how long that took. Progress goes to the client as MCP progress notifications
    when it asked for them."""
    seconds = max(0.0, min(seconds, MAX_WAIT_SECONDS))
    started = time.monotonic()
    deadline = started + seconds
    last_percent = -1.0
    while True:
        state = await backend.call(backend.client.operation, operation_id)
        if ctx is not None and state.progress.percent != last_percent:
            last_percent = state.progress.percent
            message = f"{state.status}: {state.progress.message}".rstrip(": ")
            await ctx.report_progress(state.progress.percent, 100.0, message)
        remaining = deadline - time.monotonic()
        if state.is_terminal or remaining <= 0:
            return state, round(time.monotonic() - started, 3)
        await anyio.sleep(min(POLL_INTERVAL_S, remaining))
