"""A stand-in for the backend's worker API, served over real HTTP on 127.0.0.1.

It answers as the real backend does: bodies are validated with the protocol's models
(422), a heartbeat or deregistration of a worker that is not registered is a 404, a
report for an operation the backend never gave out is a 404, and progress or a finish
from a worker that does not run the operation (or after its finish) is not accepted.
Operations a test hands a worker directly are announced first (``expect_operation``).
It records every call and can be told to misbehave: forget a worker once (as after a
restart) or answer finish reports with an error a few times.

    with FakeBackend() as backend:                 # or the ``fake_backend`` fixture
        ... point KTRDR_API_URL / Settings.api_url at backend.url ...
        backend.wait_for(lambda: backend.calls("register"))
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from ktrdr.core.auth import check_worker_secret
from ktrdr.core.errors import AuthError
from ktrdr.core.protocol import (
    WORKER_SECRET_HEADER,
    FinishReport,
    ProgressReport,
    WorkerHealth,
    WorkerRegistration,
)

T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], T], timeout_s: float = 10.0, interval_s: float = 0.02) -> T:
    """Poll until ``condition()`` is truthy and return it; fail the test on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout_s} s")
        time.sleep(interval_s)


class ThreadServer:
    """An ASGI app served by uvicorn on 127.0.0.1:``port`` from a background thread."""

    def __init__(self, app: Any, port: int, lifespan: str = "auto") -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan
        )
        self.url = f"http://127.0.0.1:{port}"
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="test-server", daemon=True)

    def start(self) -> ThreadServer:
        self._thread.start()
        wait_for(lambda: self._server.started, timeout_s=15)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(15)

    def __enter__(self) -> ThreadServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


@dataclass(frozen=True)
class Call:
    kind: str  # register | heartbeat | progress | finish | deregister
    target: str  # the worker id or operation id in the path ("" for register)
    body: dict[str, Any]
    headers: dict[str, str]
    status: int  # what the fake answered


@dataclass
class FakeBackend:
    port: int = field(default_factory=free_port)
    secret: str | None = None
    _calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _forget_next_heartbeats: int = 0
    _finish_failures: list[int] = field(default_factory=list)
    _workers: set[str] = field(default_factory=set)
    # operation id -> the worker running it; None once it is finished
    _operations: dict[str, str | None] = field(default_factory=dict)
    _server: ThreadServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- behaviour ---------------------------------------------------------------

    def forget_worker_once(self) -> None:
        """The next heartbeat is answered 404, as after a backend restart."""
        with self._lock:
            self._forget_next_heartbeats += 1

    def expect_operation(self, operation_id: str, worker_id: str) -> None:
        """The backend gave ``operation_id`` to ``worker_id`` (as its dispatcher would)."""
        with self._lock:
            self._operations[operation_id] = worker_id

    def fail_finish(self, times: int, status: int = 503) -> None:
        """Answer the next ``times`` finish reports with ``status``."""
        with self._lock:
            self._finish_failures.extend([status] * times)

    # -- inspection --------------------------------------------------------------

    def calls(self, kind: str | None = None, *, delivered: bool = False) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self._calls
                if (kind is None or c.kind == kind) and (not delivered or c.status < 300)
            ]

    def wait_for(self, condition: Callable[[], T], timeout_s: float = 10.0) -> T:
        return wait_for(condition, timeout_s)

    # -- server ------------------------------------------------------------------

    def _answer(
        self,
        kind: str,
        target: str,
        request: Request,
        raw: bytes,
        model: type[BaseModel] | None,
    ) -> Response:
        body: dict[str, Any] = {}
        with self._lock:
            status, answer = self._decide(kind, target, request, raw, model, body)
            self._calls.append(Call(kind, target, body, dict(request.headers), status))
        return JSONResponse(answer, status_code=status)

    def _decide(
        self,
        kind: str,
        target: str,
        request: Request,
        raw: bytes,
        model: type[BaseModel] | None,
        body: dict[str, Any],
    ) -> tuple[int, dict[str, Any]]:
        """(status, JSON answer) as the real backend gives them; fills ``body`` as parsed."""
        try:
            check_worker_secret(self.secret, request.headers.get(WORKER_SECRET_HEADER), "x")
        except AuthError as error:
            return (403 if error.forbidden else 401), {"detail": error.message}
        message: Any = None
        if model is not None:
            try:
                message = model.model_validate_json(raw)
            except ValidationError as error:
                return 422, {"detail": str(error)[:500]}
            body.update(message.model_dump(mode="json"))
        if kind == "register":
            self._workers.add(message.worker_id)
            return 200, body
        if kind in {"heartbeat", "deregister"}:
            if kind == "heartbeat" and self._forget_next_heartbeats:
                self._forget_next_heartbeats -= 1
                self._workers.discard(target)
            if target not in self._workers:
                return 404, {"detail": f"worker {target!r} is not registered"}
            if kind == "deregister":
                self._workers.discard(target)
                return 200, {"removed": True}
            return 200, {"ok": True}
        if kind == "finish" and self._finish_failures:
            return self._finish_failures.pop(0), {"detail": "told to fail"}
        if target not in self._operations:
            return 404, {"detail": f"no operation {target!r}"}
        accepted = self._operations[target] == message.worker_id
        if kind == "finish" and accepted:
            self._operations[target] = None
        return 200, {"accepted": accepted}

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/api/v1/workers/register")
        async def register(request: Request) -> Response:
            raw = await request.body()
            return self._answer("register", "", request, raw, WorkerRegistration)

        @app.post("/api/v1/workers/{worker_id}/heartbeat")
        async def heartbeat(worker_id: str, request: Request) -> Response:
            raw = await request.body()
            return self._answer("heartbeat", worker_id, request, raw, WorkerHealth)

        @app.delete("/api/v1/workers/{worker_id}")
        async def deregister(worker_id: str, request: Request) -> Response:
            return self._answer("deregister", worker_id, request, b"", None)

        @app.post("/api/v1/operations/{operation_id}/progress")
        async def progress(operation_id: str, request: Request) -> Response:
            raw = await request.body()
            return self._answer("progress", operation_id, request, raw, ProgressReport)

        @app.post("/api/v1/operations/{operation_id}/finish")
        async def finish(operation_id: str, request: Request) -> Response:
            raw = await request.body()
            return self._answer("finish", operation_id, request, raw, FinishReport)

        return app

    def start(self) -> FakeBackend:
        self._server = ThreadServer(self._app(), self.port, lifespan="off").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        self._server = None

    def __enter__(self) -> FakeBackend:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


@pytest.fixture
def fake_backend() -> Iterator[FakeBackend]:
    """A started fake backend; import this fixture into a conftest to use it."""
    with FakeBackend() as backend:
        yield backend
