"""Shared-secret checks, written once for the backend and the workers."""

from __future__ import annotations

import hmac

from ktrdr.core.errors import AuthError

BEARER = "bearer"


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so the answer's timing says nothing about the secret."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def check_worker_secret(expected: str | None, given: str | None, header: str) -> None:
    """Nothing to check without a configured secret; missing -> 401, wrong -> 403."""
    if not expected:
        return
    if given is None:
        raise AuthError(f"missing {header} header (the worker secret)")
    if not same_secret(given, expected):
        raise AuthError(f"wrong {header} (the worker secret)", forbidden=True)


def check_bearer_token(expected: str | None, authorization: str | None) -> None:
    """``Authorization: Bearer <token>`` when a token is configured; otherwise 401."""
    if not expected:
        return
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != BEARER or not same_secret(token, expected):
        raise AuthError("a valid bearer token is required (KTRDR_API_TOKEN)")
