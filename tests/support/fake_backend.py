"""A stand-in for the backend's worker API, served over real HTTP on 127.0.0.1.

It records every call a worker makes (register, heartbeat, progress, finish,
deregister) and can be told to misbehave: forget a worker once (heartbeat 404) or
answer finish reports with an error a few times.

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
    _calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _forget_next_heartbeats: int = 0
    _finish_failures: list[int] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- behaviour ---------------------------------------------------------------

    def forget_worker_once(self) -> None:
        """The next heartbeat is answered 404, as after a backend restart."""
        with self._lock:
            self._forget_next_heartbeats += 1

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

    def _record(self, kind: str, target: str, body: dict[str, Any], request: Request) -> int:
        with self._lock:
            status = 200
            if kind == "heartbeat" and self._forget_next_heartbeats:
                self._forget_next_heartbeats -= 1
                status = 404
            elif kind == "finish" and self._finish_failures:
                status = self._finish_failures.pop(0)
            self._calls.append(Call(kind, target, body, dict(request.headers), status))
            return status

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/api/v1/workers/register")
        async def register(request: Request) -> Response:
            body = await request.json()
            return Response(status_code=self._record("register", "", body, request))

        @app.post("/api/v1/workers/{worker_id}/heartbeat")
        async def heartbeat(worker_id: str, request: Request) -> Response:
            body = await request.json()
            return Response(status_code=self._record("heartbeat", worker_id, body, request))

        @app.delete("/api/v1/workers/{worker_id}")
        async def deregister(worker_id: str, request: Request) -> Response:
            return Response(status_code=self._record("deregister", worker_id, {}, request))

        @app.post("/api/v1/operations/{operation_id}/progress")
        async def progress(operation_id: str, request: Request) -> Response:
            body = await request.json()
            return Response(status_code=self._record("progress", operation_id, body, request))

        @app.post("/api/v1/operations/{operation_id}/finish")
        async def finish(operation_id: str, request: Request) -> Response:
            body = await request.json()
            return Response(status_code=self._record("finish", operation_id, body, request))

        return app

    def start(self) -> FakeBackend:
        config = uvicorn.Config(
            self._app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-backend", daemon=True)
        self._thread.start()
        wait_for(lambda: self._server is not None and self._server.started, timeout_s=10)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = self._thread = None

    def __enter__(self) -> FakeBackend:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


@pytest.fixture
def fake_backend() -> Iterator[FakeBackend]:
    """A started fake backend; import this fixture into a conftest to use it."""
    with FakeBackend() as backend:
        yield backend
