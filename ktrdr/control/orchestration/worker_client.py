"""The backend's HTTP calls to workers; every failure comes out as one exception type."""

from __future__ import annotations

import httpx
from pydantic import ValidationError

from ktrdr.core.logging_setup import get_logger
from ktrdr.core.protocol import WORKER_SECRET_HEADER, OperationDispatch, WorkerHealth

log = get_logger(__name__)
# httpx.InvalidURL is no HTTPError: a registered URL httpx cannot use must not escape.
_CALL_ERRORS = (httpx.HTTPError, httpx.InvalidURL, ValidationError, ValueError)


class WorkerCallError(Exception):
    """A call to a worker failed: unreachable, refused, or an answer that does not parse."""


class WorkerClient:
    def __init__(self, secret: str | None, timeout: float = 5.0) -> None:
        headers = {WORKER_SECRET_HEADER: secret} if secret else {}
        self._http = httpx.Client(timeout=timeout, headers=headers)

    def close(self) -> None:
        self._http.close()

    def dispatch(self, endpoint_url: str, dispatch: OperationDispatch) -> int:
        """POST the job; returns the HTTP status (202 accepted, 409 busy)."""
        try:
            response = self._http.post(
                f"{endpoint_url}/operations",
                content=dispatch.model_dump_json(),
                headers={"Content-Type": "application/json"},
            )
        except _CALL_ERRORS as error:
            raise WorkerCallError(f"dispatch to {endpoint_url[:100]} failed: {error}") from error
        return response.status_code

    def cancel(self, endpoint_url: str, operation_id: str) -> bool:
        """Best effort: True when the worker took the cancel (a lost one is the supervisor's)."""
        try:
            response = self._http.post(f"{endpoint_url}/operations/{operation_id}/cancel")
        except _CALL_ERRORS as error:
            log.warning("cancel_not_delivered", operation_id=operation_id, error=str(error)[:200])
            return False
        return response.status_code == 202

    def health(self, endpoint_url: str, timeout: float) -> WorkerHealth:
        try:
            response = self._http.get(f"{endpoint_url}/health", timeout=timeout)
            response.raise_for_status()
            return WorkerHealth.model_validate_json(response.content)
        except _CALL_ERRORS as error:
            raise WorkerCallError(
                f"health check of {endpoint_url[:100]} failed: {error}"
            ) from error
