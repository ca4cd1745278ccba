"""Every error answers as a :class:`~ktrdr.core.api_models.Problem`, from one place.

- ktrdr's own errors map by branch: invalid input 400 (a whole strategy or CSV document:
  422, every issue listed), not found 404, conflict 409, missing credential 401, wrong 403;
- a request that does not fit the schema is a 422 naming each field;
- anything else is a bug: a 500 carrying the request id that its log line carries too,
  never the exception's text (it can hold server paths).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ktrdr.core.api_models import Problem, ProblemIssue
from ktrdr.core.errors import (
    AuthError,
    ConflictError,
    InvalidDocumentError,
    InvalidInputError,
    KtrdrError,
    NotFoundError,
)

_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
# Declared on every route, so the OpenAPI schema documents the error bodies.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description}
    for status, description in (
        (400, "Invalid input; `field` names it"),
        (404, "Not found"),
        (413, "The request body is larger than its limit"),
        (422, "The request or the document does not validate; `issues` lists each problem"),
        (500, "Internal error; `request_id` finds it in the logs"),
    )
}
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Credential missing or not valid"},
    403: {"model": Problem, "description": "Credential refused"},
}
CONFLICT_RESPONSE: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "The current state does not allow it"}
}


def status_of(error: KtrdrError) -> int:
    if isinstance(error, InvalidDocumentError):
        return 422
    if isinstance(error, InvalidInputError):
        return 400
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, AuthError):
        return 403 if error.forbidden else 401
    return 400


def problem_response(
    status: int, problem: Problem, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status, content=problem.model_dump(mode="json"), headers=headers
    )


def request_id_of(request: Request) -> str | None:
    return request.scope.get("ktrdr.request_id")


def _ktrdr_problem(request: Request, error: KtrdrError) -> JSONResponse:
    issues = [ProblemIssue(path=i.path, message=i.message) for i in error.issues]
    problem = Problem(
        detail=error.headline,
        code=error.code,
        field=error.field,
        issues=issues,
        request_id=request_id_of(request),
    )
    status = status_of(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem_response(status, problem, headers)


def _validation_problem(request: Request, error: RequestValidationError) -> JSONResponse:
    issues = [_issue(item) for item in error.errors()]
    first = issues[0] if issues else ProblemIssue(path="", message="invalid request")
    problem = Problem(
        detail=f"invalid request: {first.path}: {first.message}",
        code="invalid_request",
        field=first.path or None,
        issues=issues,
        request_id=request_id_of(request),
    )
    return problem_response(422, problem)


def _issue(item: dict[str, Any]) -> ProblemIssue:
    location: Sequence[Any] = item.get("loc", ())
    # ("body", "symbols", 0) -> "symbols.0"; ("query", "limit") -> "limit"
    parts = [str(p) for p in location[1:]] if len(location) > 1 else [str(p) for p in location]
    message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
    return ProblemIssue(path=".".join(parts), message=message[:500])


def _http_problem(request: Request, error: StarletteHTTPException) -> JSONResponse:
    problem = Problem(
        detail=str(error.detail)[:500],
        code=_HTTP_CODES.get(error.status_code, "http_error"),
        request_id=request_id_of(request),
    )
    return problem_response(error.status_code, problem, getattr(error, "headers", None))


def install_error_handlers(app: FastAPI) -> None:
    async def ktrdr_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, KtrdrError)
        return _ktrdr_problem(request, error)

    async def validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return _validation_problem(request, error)

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        return _http_problem(request, error)

    app.add_exception_handler(KtrdrError, ktrdr_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
