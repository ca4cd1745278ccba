"""A driver's children through the backend: created, read and stopped over HTTP.

Every call carries this worker's token and the parent's attempt, so a driver whose
attempt is no longer in force (re-queued, cancelled) is refused (409) and stops. Calls
are retried for a bounded time: across a backend restart the worker registers again
(its token is refused meanwhile, 401) and the driver carries on where it was.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any
from urllib.parse import quote

import httpx

from ktrdr.compute.research.children import ChildSpec, ChildState, Watch
from ktrdr.core.api_models import ChildCreated, Operation
from ktrdr.core.errors import ConflictError, InvalidInputError
from ktrdr.core.logging_setup import get_logger
from ktrdr.core.progress import CancelToken, OperationCancelledError
from ktrdr.core.protocol import ChildCancel, ChildRequest
from ktrdr.workers.backend_client import BackendClient, Backoff, describe_error

log = get_logger(__name__)
CALL_MAX_WAIT_S = 120.0
_RETRIED = frozenset({401, 429, 500, 502, 503, 504})
STALE = 409


class ParentSupersededError(OperationCancelledError):
    """The backend no longer counts this driver's attempt: stop driving."""


class RemoteChildren:
    def __init__(
        self,
        client: BackendClient,
        worker_id: str,
        attempt: str,
        parent_id: str,
        cancel: CancelToken,
        max_wait_s: float = CALL_MAX_WAIT_S,
    ) -> None:
        self._client = client
        self._worker_id = worker_id
        self._attempt = attempt
        self._parent = quote(parent_id, safe="")
        self._cancel = cancel
        self._max_wait_s = max_wait_s

    def start(self, child: ChildSpec, watch: Watch | None = None) -> str:
        # ``watch`` is not sent: a remote child's driver polls its progress itself.
        request = ChildRequest(
            worker_id=self._worker_id,
            attempt=self._attempt,
            key=child.key,
            type=child.type,
            params=child.params,
            strategy_yaml=child.strategy_yaml,
        )
        response = self._call("POST", f"/api/v1/operations/{self._parent}/children", request)
        created = ChildCreated.model_validate_json(response.content)
        log.info("child", key=child.key, operation_id=created.operation_id, created=created.created)
        return created.operation_id

    def state(self, child_id: str) -> ChildState:
        response = self._call("GET", f"/api/v1/operations/{quote(child_id, safe='')}")
        record = Operation.model_validate_json(response.content)
        return ChildState(record.id, record.status, record.result, record.error, record.progress)

    def stop(self, key: str, reason: str) -> None:
        body = ChildCancel(worker_id=self._worker_id, attempt=self._attempt, reason=reason)
        path = f"/api/v1/operations/{self._parent}/children/{quote(key, safe='')}/cancel"
        with contextlib.suppress(ConflictError):  # it ended meanwhile
            self._call("POST", path, body)

    def _call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        deadline = time.monotonic() + self._max_wait_s
        backoff = Backoff(initial=0.25, maximum=5.0)
        while True:
            self._cancel.raise_if_cancelled()
            try:
                response = self._client.request(method, path, body)
                if response.is_success:
                    return response
                problem = f"HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code == STALE:
                    code = _code(response)
                    if code == "stale_attempt":
                        raise ParentSupersededError(problem)
                    raise ConflictError(problem)
                if response.status_code not in _RETRIED:
                    raise InvalidInputError(f"{method} {path}: {problem}")
            except httpx.HTTPError as error:
                problem = describe_error(error)
            if time.monotonic() >= deadline:
                raise ConflictError(f"{method} {path}: the backend did not answer: {problem}")
            log.warning("driver call retried", path=path, error=problem[:200])
            time.sleep(backoff.next_delay())


def _code(response: httpx.Response) -> str | None:
    try:
        return str(response.json().get("code"))
    except ValueError:
        return None
