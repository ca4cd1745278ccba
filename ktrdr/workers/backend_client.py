"""The worker's HTTP calls to the backend, each with its own failure policy.

Registration retries until it succeeds, the finish report retries for a bounded time
(the backend may be restarting), progress is fire-and-forget, deregistration is best
effort. Every call carries the worker secret when one is configured, and every call
after the registration the worker token that it answered with.

A report the backend refuses as stale (409: this attempt is no longer in force) is final:
the progress call says so (the executor then stops the job), the finish report is
discarded with an error line, never counted as delivered.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from ktrdr.core.logging_setup import get_logger
from ktrdr.core.protocol import (
    WORKER_SECRET_HEADER,
    WORKER_TOKEN_HEADER,
    FinishReport,
    ProgressReport,
    WorkerHealth,
    WorkerRegistration,
)

log = get_logger(__name__)

FINISH_MAX_WAIT_S = 600.0
# Answers after which resending a finish report cannot help: the operation is unknown
# (404), the attempt is stale (409), the worker token is refused (403), or the backend
# rejects the message itself (400, 422). A 401 (the backend forgot this worker: it was
# restarted) is retried: the heartbeat registers again meanwhile, with a new token.
_FINISH_FINAL_STATUSES = frozenset({400, 403, 404, 409, 422})
STALE = 409


class StaleAttemptError(Exception):
    """The backend no longer counts this attempt: stop the job, keep nothing of it."""


class Backoff:
    """Exponential delays with jitter: 0.5 s doubling up to 10 s by default."""

    def __init__(self, initial: float = 0.5, maximum: float = 10.0, jitter: float = 0.25) -> None:
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
        self._next = initial

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        # Jitter keeps workers that lost the backend together from retrying in lockstep.
        return min(self.maximum, delay * random.uniform(1 - self.jitter, 1 + self.jitter))

    def reset(self) -> None:
        self._next = self.initial


def describe_error(error: Exception) -> str:
    if isinstance(error, httpx.HTTPStatusError):
        return f"HTTP {error.response.status_code}: {error.response.text[:200]}"
    return f"{type(error).__name__}: {error}"


class BackendClient:
    """Thin wrapper over one ``httpx.Client`` (shared by the worker's threads)."""

    def __init__(
        self,
        api_url: str,
        worker_secret: str | None = None,
        *,
        timeout_s: float = 5.0,
        connect_timeout_s: float = 2.0,
    ) -> None:
        headers = {WORKER_SECRET_HEADER: worker_secret} if worker_secret else {}
        self._http = httpx.Client(
            base_url=api_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
        )
        self._token: str | None = None  # issued by the last successful registration

    def close(self) -> None:
        self._http.close()

    def _headers(self) -> dict[str, str]:
        return {WORKER_TOKEN_HEADER: self._token} if self._token else {}

    def _post(self, path: str, message: BaseModel) -> httpx.Response:
        # pydantic writes inf/NaN as null; httpx's json= would refuse them.
        return self._http.post(
            path,
            content=message.model_dump_json(),
            headers={"Content-Type": "application/json", **self._headers()},
        )

    def request(self, method: str, path: str, message: BaseModel | None = None) -> httpx.Response:
        """One call with this worker's credentials (a driver's calls: see parent_link)."""
        if message is None:
            return self._http.request(method, path, headers=self._headers())
        return self._http.request(
            method,
            path,
            content=message.model_dump_json(),
            headers={"Content-Type": "application/json", **self._headers()},
        )

    def register(self, registration: WorkerRegistration) -> None:
        """One attempt; raises ``httpx.HTTPError`` on failure. Keeps the token it is given."""
        response = self._post("/api/v1/workers/register", registration)
        response.raise_for_status()
        try:
            self._token = str(response.json()["token"])
        except (ValueError, KeyError, TypeError) as error:
            raise httpx.DecodingError(f"registration answer without a token: {error}") from error

    def register_until_done(
        self, build: Callable[[], WorkerRegistration], stop: threading.Event
    ) -> bool:
        """Retry registration with backoff until it succeeds (True) or ``stop`` is set."""
        backoff = Backoff()
        while not stop.is_set():
            registration = build()  # rebuilt each time: the current operation may change
            try:
                self.register(registration)
            except httpx.HTTPError as error:
                delay = backoff.next_delay()
                log.warning(
                    "worker registration failed; retrying",
                    worker_id=registration.worker_id,
                    error=describe_error(error),
                    retry_in_s=round(delay, 2),
                )
                stop.wait(delay)
                continue
            log.info(
                "worker registered",
                worker_id=registration.worker_id,
                endpoint_url=registration.endpoint_url,
            )
            return True
        return False

    def heartbeat(self, worker_id: str, health: WorkerHealth) -> bool:
        """False when the backend does not know this worker (it must register again)."""
        response = self._post(f"/api/v1/workers/{quote(worker_id, safe='')}/heartbeat", health)
        if response.status_code == 404:
            return False
        response.raise_for_status()
        return True

    def deregister(self, worker_id: str) -> None:
        """Best effort: the backend also notices a silent worker by itself."""
        try:
            response = self._http.delete(
                f"/api/v1/workers/{quote(worker_id, safe='')}", headers=self._headers()
            )
            if response.status_code != 404:
                response.raise_for_status()
            log.info("worker deregistered", worker_id=worker_id)
        except httpx.HTTPError as error:
            log.warning("deregistration failed", worker_id=worker_id, error=describe_error(error))

    def report_progress(self, operation_id: str, report: ProgressReport) -> None:
        """One attempt; a lost progress report is superseded by the next one anyway.

        Raises StaleAttemptError when the backend no longer counts this attempt.
        """
        try:
            response = self._post(
                f"/api/v1/operations/{quote(operation_id, safe='')}/progress", report
            )
            if response.status_code == STALE:
                raise StaleAttemptError(response.text[:300])
            response.raise_for_status()
        except httpx.HTTPError as error:
            log.debug(
                "progress report not delivered",
                operation_id=operation_id,
                error=describe_error(error),
            )

    def report_finish(
        self,
        operation_id: str,
        report: FinishReport,
        *,
        max_wait_s: float = FINISH_MAX_WAIT_S,
        give_up: threading.Event | None = None,
    ) -> bool:
        """Deliver the final report, retrying with backoff; True once the backend has it."""
        path = f"/api/v1/operations/{quote(operation_id, safe='')}/finish"
        give_up = give_up or threading.Event()
        deadline = time.monotonic() + max_wait_s
        backoff = Backoff()
        while True:
            try:
                response = self._post(path, report)
                if response.is_success:
                    log.info("finish reported", operation_id=operation_id, status=report.status)
                    return True
                if response.status_code == STALE:
                    log.error(
                        "finish refused: this attempt is no longer in force; result discarded",
                        operation_id=operation_id,
                        answer=response.text[:200],
                    )
                    return False
                if response.status_code in _FINISH_FINAL_STATUSES:
                    log.warning(
                        "backend refused the finish report; not retrying",
                        operation_id=operation_id,
                        http_status=response.status_code,
                        answer=response.text[:200],
                    )
                    return False
                problem = f"HTTP {response.status_code}"
            except httpx.HTTPError as error:
                problem = describe_error(error)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.error("gave up reporting the finish", operation_id=operation_id, error=problem)
                return False
            delay = min(backoff.next_delay(), remaining)
            log.warning(
                "finish report not delivered; retrying",
                operation_id=operation_id,
                error=problem,
                retry_in_s=round(delay, 2),
            )
            if give_up.wait(delay):
                log.error("finish report abandoned", operation_id=operation_id, error=problem)
                return False
