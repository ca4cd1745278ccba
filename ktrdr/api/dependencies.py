"""FastAPI dependencies: the shared services and the two kinds of credentials."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status

from ktrdr.api.services import Services
from ktrdr.protocol import WORKER_SECRET_HEADER


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def require_token(
    services: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Mutating endpoints need ``Authorization: Bearer <KTRDR_API_TOKEN>`` when one is set."""
    expected = services.settings.api_token
    if not expected:
        return
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not _same(token, expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="a valid bearer token is required (KTRDR_API_TOKEN)",
            headers={"WWW-Authenticate": "Bearer"},
        )


def require_worker_secret(
    services: ServicesDep,
    secret: Annotated[str | None, Header(alias=WORKER_SECRET_HEADER)] = None,
) -> None:
    expected = services.settings.worker_secret
    if expected and not _same(secret, expected):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"worker secret missing or wrong ({WORKER_SECRET_HEADER})",
        )


TokenDep = Depends(require_token)
WorkerSecretDep = Depends(require_worker_secret)
