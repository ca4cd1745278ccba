"""The backend's one ASGI middleware: body limits, a request id, metrics, the last resort.

- A request body is bounded before anything reads it, authentication included: a
  declared ``Content-Length`` over the limit is answered 413 at once, and a body that
  streams past it is cut off with a 413 (see :class:`BodyLimits`).
- Each request gets an id (a sane incoming ``X-Request-ID`` is kept), bound to every log
  line written while it runs and returned in the ``X-Request-ID`` header.
- An exception that nothing handled is logged with that id and answered as a 500
  ``Problem`` carrying it.

Pure ASGI rather than ``BaseHTTPMiddleware``: it costs a few microseconds a request.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ktrdr.control.api.errors import problem_response
from ktrdr.control.api.metrics import LATENCY, REQUESTS
from ktrdr.core.api_models import Problem
from ktrdr.core.logging_setup import get_logger

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
log = get_logger(__name__)


@dataclass(frozen=True)
class BodyLimits:
    """Bytes a request body may have: uploads, strategies, and everything else."""

    upload: int  # CSV imports (KTRDR_MAX_UPLOAD_BYTES)
    strategy: int  # strategy YAML
    default: int  # JSON bodies (KTRDR_MAX_REQUEST_BYTES)

    def for_request(self, method: str, path: str) -> tuple[int, str]:
        if method == "POST" and path.startswith("/api/v1/data/"):
            return self.upload, "KTRDR_MAX_UPLOAD_BYTES"
        if path.startswith("/api/v1/strategies/") and method in {"PUT", "POST"}:
            return self.strategy, "the strategy limit"
        return self.default, "KTRDR_MAX_REQUEST_BYTES"


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 20 else -1
    return None


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _SANE_ID.match(text) else None
    return None


class RequestContext:
    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or secrets.token_hex(8)  # 16 hex digits
        scope["ktrdr.request_id"] = request_id
        started = time.perf_counter()
        # "answered": this middleware sent the response itself; the app's own is dropped.
        state: dict[str, Any] = {"status": 500, "started": False, "received": 0}
        state["answered"] = False
        limit, setting = self.limits.for_request(scope["method"], scope["path"])

        async def send_with_id(message: Message) -> None:
            if state["answered"]:
                return
            if message["type"] == "http.response.start":
                state["status"], state["started"] = message["status"], True
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        async def answer(status: int, problem: Problem) -> None:
            if not state["started"]:
                await problem_response(status, problem)(scope, receive, send_with_id)
            state["answered"] = True

        async def too_large() -> None:
            detail = f"request body larger than {limit} bytes ({setting})"
            await answer(413, Problem(detail=detail, code="too_large", request_id=request_id))

        async def bounded_receive() -> Message:
            if state["answered"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    # Answered here, whatever the app makes of the missing rest.
                    await too_large()
                    return {"type": "http.disconnect"}
            return message

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                declared = _declared_length(scope)
                if declared is not None and (declared < 0 or declared > limit):
                    await too_large()
                else:
                    await self.app(scope, bounded_receive, send_with_id)
            except Exception:
                if not state["answered"]:  # a cut-off body is no bug
                    log.exception("unhandled_error", method=scope["method"], path=scope["path"])
                    problem = Problem(
                        detail="internal error; the server log has the details",
                        code="internal",
                        request_id=request_id,
                    )
                    await answer(500, problem)
            finally:
                route = getattr(scope.get("route"), "path", "unmatched")
                method = scope["method"]
                REQUESTS.labels(method, route, str(state["status"])).inc()
                LATENCY.labels(method, route).observe(time.perf_counter() - started)
