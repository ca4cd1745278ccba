"""``GET /operations/{id}/report``: a finished operation's HTML report, from its stored result.

Nothing is re-run: the report is drawn from the result the worker delivered. A browser
asking for a report that cannot exist (unknown operation, not finished, failed, a result
that cannot be drawn) gets a page saying why, with a 4xx status; a client that accepts
``application/problem+json`` (ktrdr's own) gets the usual Problem body instead.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ktrdr.control.api.dependencies import ServicesDep
from ktrdr.control.api.errors import CONFLICT_RESPONSE, ERROR_RESPONSES, status_of
from ktrdr.control.api.routers.operations import OperationIdPath
from ktrdr.core.enums import OperationStatus
from ktrdr.core.errors import ConflictError, KtrdrError
from ktrdr.reports import render_problem_page, render_report

router = APIRouter(tags=["operations"])
# The report itself cannot be embedded elsewhere nor reach out; its own meta policy
# already forbids every fetch and runs only its inline scripts (by hash).
REPORT_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_HTML_ERROR = {"content": {"text/html": {}, "application/json": {}}}
_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/html": {}}, "description": "The report: one self-contained HTML page"},
    404: {**ERROR_RESPONSES[404], **_HTML_ERROR, "description": "No such operation"},
    409: {**CONFLICT_RESPONSE[409], **_HTML_ERROR, "description": "Not completed: no result"},
    422: {**ERROR_RESPONSES[422], **_HTML_ERROR, "description": "The result cannot be drawn"},
    500: ERROR_RESPONSES[500],
}
_TITLES = {
    404: "No such operation",
    409: "No report for this operation",
    422: "This report cannot be drawn",
}
_PROBLEM_TYPES = ("application/problem+json", "application/json")


def _wants_problem_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return any(kind in accept for kind in _PROBLEM_TYPES)


@router.get(
    "/operations/{operation_id}/report",
    response_class=HTMLResponse,
    responses=_RESPONSES,
    summary="A finished operation's HTML report",
)
def get_report(
    operation_id: OperationIdPath, request: Request, services: ServicesDep
) -> HTMLResponse:
    """Backtests: candles with trade markers, equity against buy and hold, drawdown,
    metrics beside the benchmark, trades, provenance. Trainings: loss and accuracy per
    epoch, the early-stopping point, class balance, confusion matrices. The page is
    self-contained: saved to a file, it opens offline."""
    try:
        record = services.operations.get(operation_id)
        if record.status != OperationStatus.COMPLETED or record.result is None:
            raise _no_result(record.id, record.status, record.error, record.progress.percent)
        html = render_report(record.type, record.result, record.id)
    except KtrdrError as error:
        if _wants_problem_json(request):
            raise
        return _problem_page(operation_id, error, services)
    return HTMLResponse(html, headers=REPORT_HEADERS)


class OperationNotFinishedError(ConflictError):
    """There is no result to draw yet, or there never will be."""


def _no_result(
    operation_id: str, status: OperationStatus, error: str | None, percent: float
) -> OperationNotFinishedError:
    if status == OperationStatus.FAILED:
        text = f"operation {operation_id} failed, so it has no report: {error or 'no error given'}"
    elif status == OperationStatus.CANCELLED:
        text = f"operation {operation_id} was cancelled before it finished: it has no report"
    elif status in (OperationStatus.PENDING, OperationStatus.RUNNING):
        text = (
            f"operation {operation_id} is {status} ({percent:.0f}%): "
            "its report comes when it completes"
        )
    else:
        text = f"operation {operation_id} is {status} and has no result"
    return OperationNotFinishedError(text, field="operation_id")


def _problem_page(operation_id: str, error: KtrdrError, services: ServicesDep) -> HTMLResponse:
    status = status_of(error)
    details: list[tuple[str, str]] = [("Operation", operation_id)]
    if status != 404:
        record = services.operations.get(operation_id)
        details += [
            ("Type", record.type),
            ("Strategy", record.strategy_name),
            ("Status", record.status),
            ("Created", record.created_at.isoformat(timespec="seconds")),
        ]
        if record.error:
            details.append(("Error", record.error))
    details += [
        (f"Problem at {i.path}" if i.path else "Problem", i.message) for i in error.issues[1:]
    ]
    titles = {
        404: "No such operation",
        409: "No report for this operation",
        422: "This report cannot be drawn",
    }
    page = render_problem_page(titles.get(status, "No report"), error.message, details, status)
    return HTMLResponse(page, status_code=status, headers=REPORT_HEADERS)
