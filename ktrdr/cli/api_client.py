"""A small client for the backend API, used by the CLI and the canary check."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from ktrdr.protocol import TERMINAL_STATUSES


class ApiError(RuntimeError):
    """The backend answered with an error, or could not be reached."""


class ApiClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=f"{self.base_url}/api/v1", headers=headers, timeout=timeout
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ApiError(f"cannot reach the backend at {self.base_url}: {error}") from error
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise ApiError(f"{method} {path}: HTTP {response.status_code}: {_describe(detail)}")
        return response.json()

    def health(self) -> dict[str, Any]:
        return self.request("GET", "/health")

    def start_training(self, strategy: str, **params: Any) -> dict[str, Any]:
        body = {"strategy_name": strategy, **{k: v for k, v in params.items() if v is not None}}
        return self.request("POST", "/trainings/start", json=body)

    def start_backtest(self, strategy: str, **params: Any) -> dict[str, Any]:
        body = {"strategy_name": strategy, **{k: v for k, v in params.items() if v is not None}}
        return self.request("POST", "/backtests/start", json=body)

    def operation(self, operation_id: str) -> dict[str, Any]:
        return self.request("GET", f"/operations/{operation_id}")

    def operations(self, **filters: Any) -> dict[str, Any]:
        params = {k: v for k, v in filters.items() if v is not None}
        return self.request("GET", "/operations", params=params)

    def cancel(self, operation_id: str) -> dict[str, Any]:
        return self.request("DELETE", f"/operations/{operation_id}")

    def results(self, operation_id: str) -> dict[str, Any]:
        return self.request("GET", f"/operations/{operation_id}/results")

    def workers(self) -> list[dict[str, Any]]:
        return self.request("GET", "/workers")

    def upload_strategy(self, name: str, text: str, replace: bool = True) -> dict[str, Any]:
        return self.request(
            "PUT",
            f"/strategies/{name}",
            params={"replace": str(replace).lower()},
            content=text.encode(),
            headers={"Content-Type": "application/yaml"},
        )

    def wait(
        self,
        operation_id: str,
        on_update: Callable[[dict[str, Any]], None] | None = None,
        poll_s: float = 0.5,
        timeout_s: float | None = None,
        until: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Poll until the operation ends (or ``until`` holds); returns its last state."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            state = self.operation(operation_id)
            if on_update is not None:
                on_update(state)
            if state["status"] in TERMINAL_STATUSES or (until is not None and until(state)):
                return state
            if deadline is not None and time.monotonic() > deadline:
                raise ApiError(
                    f"operation {operation_id} still {state['status']} after {timeout_s}s"
                )
            time.sleep(poll_s)


def _describe(detail: Any) -> str:
    if isinstance(detail, dict) and "issues" in detail:
        issues = "; ".join(f"{i['path']}: {i['message']}" for i in detail["issues"])
        return f"{detail.get('message', '')}: {issues}"
    return str(detail)
