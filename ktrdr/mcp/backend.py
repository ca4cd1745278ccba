"""The backend as the tools reach it: :class:`ktrdr.client.ApiClient`, off the event loop.

The client is synchronous (httpx); each call runs in a worker thread, at most
``MAX_CONCURRENT_BACKEND_CALLS`` at once, so that one slow answer never stalls the other
sessions an HTTP server holds, and waiting tools sleep on the event loop between polls.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

from ktrdr.client import ApiClient
from ktrdr.core.settings import Settings
from ktrdr.mcp.limits import BACKEND_TIMEOUT_S, MAX_CONCURRENT_BACKEND_CALLS

P = ParamSpec("P")
T = TypeVar("T")


class Backend:
    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self._limiter = anyio.CapacityLimiter(MAX_CONCURRENT_BACKEND_CALLS)

    @classmethod
    def from_settings(cls, settings: Settings) -> Backend:
        """KTRDR_API_URL, with KTRDR_API_TOKEN sent on every request when it is set."""
        return cls(ApiClient(settings.api_url, settings.api_token, timeout=BACKEND_TIMEOUT_S))

    @property
    def url(self) -> str:
        return self.client.base_url

    async def call(self, method: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``method(*args, **kwargs)`` (an ApiClient method) in a worker thread."""
        bound: Callable[[], T] = functools.partial(method, *args, **kwargs)
        return await anyio.to_thread.run_sync(bound, limiter=self._limiter)

    def close(self) -> None:
        self.client.close()
