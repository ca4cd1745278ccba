"""Serve an ASGI app with uvicorn: the one way the backend and every worker run.

uvicorn (>= 0.29) re-raises the signal that stopped it once shutdown is complete, so a
graceful SIGTERM stop would still end "killed by SIGTERM" (status 143). A no-op handler
is installed first: uvicorn restores it and re-raises into it, and a graceful stop exits
0, the same for ``python -m ktrdr.api``, ``python -m ktrdr.workers``, ``ktrdr serve``,
``ktrdr worker start`` and ``ktrdr up``.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

import uvicorn

GRACEFUL_SHUTDOWN_S = 30
# uvloop and httptools (a C event loop and HTTP parser) instead of asyncio and h11: a
# polled backend answers about a fifth more requests/s (benchmarks/operations_load.py).
# uvloop has no Windows build.
LOOP = "asyncio" if sys.platform == "win32" else "uvloop"
HTTP = "httptools"


def serve(app: Any, host: str, port: int) -> None:
    """Run ``app`` in the foreground until SIGTERM or SIGINT; returns after a clean stop."""
    signal.signal(signal.SIGTERM, lambda *_: None)
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop=LOOP,
        http=HTTP,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
