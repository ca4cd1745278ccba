"""One HTTP client for every test in a process.

``httpx.get`` and its siblings build a new client per call, and with it an SSL context
loaded from the CA bundle: about 40 ms of CPU each on a two-core host, against 2 ms on a
kept client. The suite polls backends and workers many times a second while they start
and work, so those 40 ms came out of the very cores the processes under test needed.
"""

from __future__ import annotations

import httpx

# httpx's own default timeout (5 s) stays the default; calls pass their own.
HTTP = httpx.Client()


def answers_ok(url: str) -> bool:
    """Whether ``url`` answers 200 within a second; refused or slow counts as no."""
    try:
        return HTTP.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
