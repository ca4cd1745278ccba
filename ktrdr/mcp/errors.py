"""Failures a tool reports to the agent, never raises out of the server.

A backend that answers with an error (a 4xx ``Problem``), a backend that does not answer,
and arguments the tool itself refuses all become an ``is_error`` tool result: a line for
the model to read (what, where, what to do) and the same as structured content::

    {"error": {"status": 422, "code": "invalid_document", "detail": "...",
               "field": "indicators.rsi.type", "issues": [{"path": ..., "message": ...}],
               "request_id": "...", "backend": "http://backend:8000"}}

Anything else a tool raises is a bug: the SDK answers it as a generic tool error and
logs the traceback; the server goes on serving.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from mcp.types import CallToolResult, TextContent

from ktrdr.client import ApiError, describe_problem
from ktrdr.core.api_models import Problem
from ktrdr.core.errors import KtrdrError
from ktrdr.core.logging_setup import get_logger

P = ParamSpec("P")
R = TypeVar("R")
log = get_logger(__name__)


class ToolArgumentError(KtrdrError):
    """The tool's own arguments do not make sense together; ``field`` names the argument."""

    code = "invalid_argument"


class OperationFailedError(KtrdrError):
    """An operation a tool started and waited for did not complete."""

    code = "operation_failed"


def error_payload(error: KtrdrError, backend_url: str) -> dict[str, Any]:
    """The structured form of a failure (see the module docstring)."""
    if isinstance(error, ApiError) and error.problem is not None:
        problem = error.problem
        return {
            "status": error.status,
            "code": problem.code,
            "detail": problem.detail,
            "field": problem.field,
            "issues": [issue.model_dump() for issue in problem.issues],
            "request_id": problem.request_id,
            "backend": backend_url,
        }
    unreachable = isinstance(error, ApiError)
    return {
        "status": None,
        "code": "backend_unreachable" if unreachable else error.code,
        "detail": error.message,
        "field": error.field,
        "issues": [],
        "request_id": None,
        "backend": backend_url,
    }


def error_text(payload: dict[str, Any]) -> str:
    """One paragraph for the model: what failed, where, and what to try."""
    if payload["code"] == "backend_unreachable":
        return (
            f"The ktrdr backend at {payload['backend']} is not reachable: {payload['detail']}. "
            "Check that it is running (check_backend_health), or that KTRDR_API_URL names it."
        )
    if payload["status"] is None:
        where = f" (argument {payload['field']})" if payload["field"] else ""
        verb = "Failed" if payload["code"] == OperationFailedError.code else "Refused"
        return f"{verb}{where}: {payload['detail']}"
    problem = Problem.model_validate({k: payload[k] for k in ("detail", "code", "field", "issues")})
    text = f"The backend refused the request (HTTP {payload['status']} {payload['code']}): "
    text += describe_problem(problem)
    if payload["field"]:
        text += f" [field: {payload['field']}]"
    if payload["status"] in (401, 403):
        text += " The MCP server sends KTRDR_API_TOKEN from its own environment."
    return text


def error_result(error: KtrdrError, backend_url: str) -> CallToolResult:
    payload = error_payload(error, backend_url)
    return CallToolResult(
        content=[TextContent(type="text", text=error_text(payload))],
        structured_content={"error": payload},
        is_error=True,
    )


def reports_errors(
    backend_url: str,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Decorate a tool: a ktrdr error (backend answer, no answer, bad argument) becomes an
    ``is_error`` result instead of an exception. The signature (and so the input and output
    schemas the SDK derives from it) stays the tool's own."""

    def decorate(tool: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(tool)
        async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await tool(*args, **kwargs)
            except KtrdrError as error:
                log.info("tool_error", tool=tool.__name__, code=error.code, error=str(error))
                # The SDK passes a CallToolResult through as it is (no output validation
                # for an error result); the annotation stays the success type.
                return error_result(error, backend_url)  # type: ignore[return-value]

        return guarded

    return decorate
