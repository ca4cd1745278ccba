"""FastAPI dependencies: the shared services and the two kinds of credentials."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request

from ktrdr.control.api.errors import AUTH_RESPONSES
from ktrdr.control.api.services import Services
from ktrdr.core.auth import check_bearer_token, check_worker_secret
from ktrdr.core.protocol import WORKER_SECRET_HEADER, WORKER_TOKEN_HEADER


# Dependencies are async on purpose: a sync one costs a trip through the thread pool on
# every request (a third of a polled read's time); they only read attributes.
async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def require_token(
    services: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Mutating endpoints need ``Authorization: Bearer <KTRDR_API_TOKEN>`` when one is set."""
    check_bearer_token(services.settings.api_token, authorization)


async def require_worker_secret(
    services: ServicesDep,
    secret: Annotated[str | None, Header(alias=WORKER_SECRET_HEADER)] = None,
) -> None:
    check_worker_secret(services.settings.worker_secret, secret, WORKER_SECRET_HEADER)


WorkerToken = Annotated[str | None, Header(alias=WORKER_TOKEN_HEADER)]

TokenDep = Depends(require_token)
WorkerSecretDep = Depends(require_worker_secret)


def worker_call(
    router: APIRouter,
    method: str,
    path: str,
    response_model: type[Any],
    responses: dict[int | str, dict[str, Any]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A route of the worker protocol: it needs the worker secret and documents 401/403."""
    return router.api_route(
        path,
        methods=[method],
        dependencies=[WorkerSecretDep],
        response_model=response_model,
        responses={**AUTH_RESPONSES, **(responses or {})},
    )
