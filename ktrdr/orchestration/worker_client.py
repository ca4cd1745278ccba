"""The backend's HTTP calls to workers."""

from __future__ import annotations

import httpx

from ktrdr.protocol import WORKER_SECRET_HEADER, OperationDispatch, WorkerHealth


class WorkerClient:
    def __init__(self, secret: str | None, timeout: float = 5.0) -> None:
        headers = {WORKER_SECRET_HEADER: secret} if secret else {}
        self._http = httpx.Client(timeout=timeout, headers=headers)

    def close(self) -> None:
        self._http.close()

    def dispatch(self, endpoint_url: str, dispatch: OperationDispatch) -> int:
        """POST the job; returns the HTTP status (202 accepted, 409 busy)."""
        response = self._http.post(f"{endpoint_url}/operations", json=dispatch.model_dump())
        return response.status_code

    def cancel(self, endpoint_url: str, operation_id: str) -> int:
        response = self._http.post(f"{endpoint_url}/operations/{operation_id}/cancel")
        return response.status_code

    def health(self, endpoint_url: str, timeout: float) -> WorkerHealth:
        response = self._http.get(f"{endpoint_url}/health", timeout=timeout)
        response.raise_for_status()
        return WorkerHealth.model_validate(response.json())
