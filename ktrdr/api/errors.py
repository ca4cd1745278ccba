"""Domain errors -> HTTP 4xx with a message naming the problem (never a 500)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ktrdr.data.store import CsvValidationError, SeriesExistsError, SeriesNotFoundError
from ktrdr.models.registry import ModelNotFoundError
from ktrdr.operations.store import InvalidTransitionError, OperationNotFoundError
from ktrdr.strategies import StrategyError


def _json(status: int, detail: object) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StrategyError)
    async def strategy_error(_: Request, error: StrategyError) -> JSONResponse:
        issues = [{"path": i.path, "message": i.message} for i in error.issues]
        return _json(422, {"message": f"{error.source} is invalid", "issues": issues})

    @app.exception_handler(CsvValidationError)
    async def csv_error(_: Request, error: CsvValidationError) -> JSONResponse:
        report = error.report
        return _json(
            422,
            {
                "message": "CSV rejected; nothing was stored",
                "errors": [problem.to_dict() for problem in report.errors],
                "more_errors": report.more_errors,
            },
        )

    for error_type, status in (
        (OperationNotFoundError, 404),
        (SeriesNotFoundError, 404),
        (ModelNotFoundError, 404),
        (FileNotFoundError, 404),
        (InvalidTransitionError, 409),
        (SeriesExistsError, 409),
        (FileExistsError, 409),
        (ValueError, 400),
    ):
        app.add_exception_handler(error_type, _handler(status))


def _handler(status: int):  # type: ignore[no-untyped-def]
    async def handle(_: Request, error: Exception) -> JSONResponse:
        message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
        return _json(status, message)

    return handle
