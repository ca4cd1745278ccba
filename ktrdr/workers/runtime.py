"""The worker's HTTP app: takes operations from the backend and keeps itself registered.

``create_worker_app`` wraps a job function into an ASGI app for uvicorn. The lifespan
registers with the backend and heartbeats in a background thread; on shutdown (uvicorn
runs it on SIGTERM) the running job is cancelled, its finish report delivered, and the
worker deregisters.
"""

from __future__ import annotations

import asyncio
import re
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, ClassVar

from fastapi import Depends, FastAPI, Header, HTTPException, Request, status

from ktrdr.core.auth import check_worker_secret
from ktrdr.core.background import BackgroundLoop
from ktrdr.core.enums import WorkerType
from ktrdr.core.errors import AuthError
from ktrdr.core.logging_setup import get_logger
from ktrdr.core.protocol import (
    WORKER_SECRET_HEADER,
    OperationDispatch,
    WorkerCapabilities,
    WorkerHealth,
    WorkerRegistration,
)
from ktrdr.core.settings import Settings
from ktrdr.workers.backend_client import BackendClient
from ktrdr.workers.context import JobFunction
from ktrdr.workers.executor import JobExecutor, WorkerBusyError

_WILDCARD_HOSTS = {"0.0.0.0", "::", ""}

log = get_logger(__name__)


@dataclass(frozen=True)
class WorkerIdentity:
    worker_id: str
    endpoint_url: str
    # This process's own id: after a restart the backend tells the new process from the
    # old one by it (see ktrdr.control.orchestration.admission).
    instance_id: str = field(default_factory=lambda: uuid.uuid4().hex)


def worker_identity(worker_type: WorkerType, settings: Settings) -> WorkerIdentity:
    """The id and URL the worker registers with; settings win over derived defaults."""
    port = settings.worker_port_for(worker_type)
    hostname = socket.gethostname()
    # Worker ids allow [A-Za-z0-9._:-] only (see WorkerRegistration).
    derived_id = re.sub(r"[^A-Za-z0-9._:-]", "-", f"{worker_type}-{hostname}-{port}")[:128]
    host = settings.worker_host
    if host in _WILDCARD_HOSTS:
        # Bound to every interface: the backend cannot dial 0.0.0.0, the hostname it can.
        host = hostname
    return WorkerIdentity(
        worker_id=settings.worker_id or derived_id,
        endpoint_url=settings.worker_public_url or f"http://{host}:{port}",
    )


@dataclass(eq=False, repr=False)
class _Presence(BackgroundLoop):
    """Registers with the backend, then heartbeats; re-registers when it is forgotten."""

    client: BackendClient
    registration: Callable[[], WorkerRegistration]
    health: Callable[[], WorkerHealth]
    worker_id: str
    interval_s: float
    thread_name: ClassVar[str] = "worker-presence"

    def _run(self) -> None:
        if not self.client.register_until_done(self.registration, self._stop):
            return
        while not self._stop.wait(self.interval_s):
            try:
                known = self.client.heartbeat(self.worker_id, self.health())
            except Exception as error:  # never let the presence thread die
                log.warning("heartbeat failed", worker_id=self.worker_id, error=str(error))
                continue
            if not known and not self._stop.is_set():
                log.info("the backend does not know this worker; registering again")
                if not self.client.register_until_done(self.registration, self._stop):
                    return


class _WorkerRuntime:
    """Everything that lives between lifespan start and shutdown."""

    def __init__(
        self,
        worker_type: WorkerType,
        job: JobFunction,
        settings: Settings,
        identity: WorkerIdentity,
        capabilities: WorkerCapabilities | None,
    ) -> None:
        self.worker_type = worker_type
        self.settings = settings
        self.identity = identity
        self._capabilities = capabilities
        self.client = BackendClient(settings.api_url, settings.worker_secret)
        self.executor = JobExecutor(
            identity.worker_id, worker_type, job, self.client, settings, identity.instance_id
        )
        self.presence = _Presence(
            self.client,
            self._registration,
            self.executor.health,
            identity.worker_id,
            settings.worker_heartbeat_s,
        )

    def _registration(self) -> WorkerRegistration:
        if self._capabilities is None:
            self._capabilities = _detect_capabilities()
        return WorkerRegistration(
            worker_id=self.identity.worker_id,
            worker_type=self.worker_type,
            endpoint_url=self.identity.endpoint_url,
            instance_id=self.identity.instance_id,
            capabilities=self._capabilities,
            current_operation_id=self.executor.current_operation_id,
        )

    def start(self) -> None:
        log.info(
            "worker starting",
            worker_id=self.identity.worker_id,
            worker_type=self.worker_type,
            endpoint_url=self.identity.endpoint_url,
            backend=self.settings.api_url,
        )
        self.presence.start()

    def stop(self) -> None:
        log.info("worker stopping", worker_id=self.identity.worker_id)
        self.executor.shutdown(self.settings.worker_shutdown_grace_s)
        # Heartbeats stop before the DELETE: a heartbeat answered 404 would re-register.
        self.presence.stop()
        self.client.deregister(self.identity.worker_id)
        self.client.close()
        log.info("worker stopped", worker_id=self.identity.worker_id)


def _detect_capabilities() -> WorkerCapabilities:
    # Imported here: the runtime stays importable without the compute stack.
    from ktrdr.compute.device import describe_device

    try:
        return describe_device()
    except Exception as error:  # registering without details beats not registering
        log.warning("could not detect worker capabilities", error=str(error))
        return WorkerCapabilities()


def _secret_check(expected: str | None) -> Callable[[str | None], None]:
    def check(
        provided: Annotated[str | None, Header(alias=WORKER_SECRET_HEADER)] = None,
    ) -> None:
        try:
            check_worker_secret(expected, provided, WORKER_SECRET_HEADER)
        except AuthError as error:
            status_code = 403 if error.forbidden else 401
            raise HTTPException(status_code, error.message) from None

    return check


def _runtime(request: Request) -> _WorkerRuntime:
    runtime: _WorkerRuntime | None = getattr(request.app.state, "runtime", None)
    if runtime is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "worker is not started")
    return runtime


_Runtime = Annotated[_WorkerRuntime, Depends(_runtime)]


def create_worker_app(
    worker_type: WorkerType,
    job: JobFunction,
    settings: Settings,
    *,
    capabilities: WorkerCapabilities | None = None,
) -> FastAPI:
    """An ASGI app running ``job`` for dispatched operations, one at a time.

    ``capabilities`` skips detection (which imports torch); tests pass it.
    """
    identity = worker_identity(worker_type, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = _WorkerRuntime(worker_type, job, settings, identity, capabilities)
        app.state.runtime = runtime
        runtime.start()
        try:
            yield
        finally:
            # Blocking (grace period, HTTP calls): keep it off the event loop.
            await asyncio.to_thread(runtime.stop)

    app = FastAPI(title=f"ktrdr {worker_type} worker", lifespan=lifespan)
    secret = [Depends(_secret_check(settings.worker_secret))]

    @app.get("/health", response_model=WorkerHealth)
    def health(runtime: _Runtime) -> WorkerHealth:
        return runtime.executor.health()

    @app.post("/operations", status_code=status.HTTP_202_ACCEPTED, dependencies=secret)
    def dispatch(body: OperationDispatch, runtime: _Runtime) -> dict[str, bool]:
        if not worker_type.runs(body.operation_type):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"this is a {worker_type} worker; it cannot run {body.operation_type}",
            )
        try:
            runtime.executor.submit(body)
        except WorkerBusyError as error:
            raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
        log.info("operation accepted", operation_id=body.operation_id)
        return {"accepted": True}

    @app.post(
        "/operations/{operation_id}/cancel",
        status_code=status.HTTP_202_ACCEPTED,
        dependencies=secret,
    )
    def cancel(operation_id: str, runtime: _Runtime) -> dict[str, bool]:
        if not runtime.executor.cancel(operation_id):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"operation {operation_id} is not running here"
            )
        return {"cancelling": True}

    return app
