"""The backend's one ASGI middleware: a request id, the request metrics, and the last resort.

Each request gets an id (a sane incoming ``X-Request-ID`` is kept), bound to every log
line written while it runs and returned in the ``X-Request-ID`` header. An exception that
nothing handled is logged with that id and answered as a 500 ``Problem`` carrying it.
Pure ASGI rather than ``BaseHTTPMiddleware``: it costs a few microseconds a request.
"""

from __future__ import annotations

import re
import time
import uuid
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


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _SANE_ID.match(text) else None
    return None


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex[:16]
        scope["ktrdr.request_id"] = request_id
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"], state["started"] = message["status"], True
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("unhandled_error", method=scope["method"], path=scope["path"])
                if not state["started"]:
                    problem = Problem(
                        detail="internal error; the server log has the details",
                        code="internal",
                        request_id=request_id,
                    )
                    await problem_response(500, problem)(scope, receive, send_with_id)
            finally:
                route = getattr(scope.get("route"), "path", "unmatched")
                method = scope["method"]
                REQUESTS.labels(method, route, str(state["status"])).inc()
                LATENCY.labels(method, route).observe(time.perf_counter() - started)
