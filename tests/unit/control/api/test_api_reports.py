"""GET /operations/{id}/report and the dashboard, through the real application."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support import ops
from tests.support.report_results import backtest_result, training_result, with_changes

API = "/api/v1"
PROBLEM_JSON = {"Accept": "text/html, application/problem+json"}


def _operation(
    client: TestClient,
    kind: str,
    status: str,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> str:
    """An operation in ``status``, as a worker would have left it."""
    store = client.app.state.services.operations  # type: ignore[attr-defined]
    record = store.create(kind, "demo", "name: demo\n", {})
    if status != "pending":
        assert store.mark_running(record.id, "worker-1")
    if status not in ("pending", "running"):
        assert ops.finish(store, record.id, "worker-1", status, result, error)
    return record.id


def test_a_backtest_report_is_html_drawn_from_the_stored_result(client: TestClient) -> None:
    op_id = _operation(client, "backtesting", "completed", backtest_result())
    response = client.get(f"{API}/operations/{op_id}/report")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    html = response.text
    assert 'data-report="backtest"' in html
    assert "Backtest demo · IBM · 1d" in html
    assert op_id in html


def test_a_training_report(client: TestClient) -> None:
    op_id = _operation(client, "training", "completed", training_result())
    response = client.get(f"{API}/operations/{op_id}/report")
    assert response.status_code == 200
    assert 'data-report="training"' in response.text
    assert 'id="confusion-test"' in response.text


def test_an_unknown_operation_is_a_404_page_or_problem(client: TestClient) -> None:
    page = client.get(f"{API}/operations/nope/report", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "No such operation" in page.text
    assert "nope" in page.text
    problem = client.get(f"{API}/operations/nope/report", headers=PROBLEM_JSON)
    assert problem.status_code == 404
    assert problem.json()["code"] == "not_found"


def test_a_failed_operation_has_no_report_and_says_why(client: TestClient) -> None:
    op_id = _operation(client, "backtesting", "failed", error="InvalidInputError: no bars")
    page = client.get(f"{API}/operations/{op_id}/report")
    assert page.status_code == 409
    assert "failed, so it has no report: InvalidInputError: no bars" in page.text
    problem = client.get(f"{API}/operations/{op_id}/report", headers=PROBLEM_JSON).json()
    assert problem["code"] == "conflict"
    assert problem["field"] == "operation_id"


def test_pending_running_and_cancelled_operations_have_no_report(client: TestClient) -> None:
    for status, words in (
        ("pending", "its report comes when it completes"),
        ("running", "is running (0%)"),
        ("cancelled", "was cancelled before it finished"),
    ):
        op_id = _operation(client, "training", status)
        page = client.get(f"{API}/operations/{op_id}/report")
        assert page.status_code == 409, status
        assert words in page.text, status


def test_a_result_that_cannot_be_drawn_is_a_422_naming_the_field(client: TestClient) -> None:
    broken = with_changes(backtest_result(), metrics="not a table")
    op_id = _operation(client, "backtesting", "completed", broken)
    page = client.get(f"{API}/operations/{op_id}/report")
    assert page.status_code == 422
    assert "cannot be drawn" in page.text
    assert "metrics" in page.text
    problem = client.get(f"{API}/operations/{op_id}/report", headers=PROBLEM_JSON).json()
    assert problem["field"] == "metrics"


def test_a_zero_trade_backtest_report_is_a_page_saying_so(client: TestClient) -> None:
    op_id = _operation(
        client, "backtesting", "completed", with_changes(backtest_result(), trades=[])
    )
    page = client.get(f"{API}/operations/{op_id}/report")
    assert page.status_code == 200
    assert 'id="no-trades"' in page.text


def test_an_overlong_id_is_refused(client: TestClient) -> None:
    assert client.get(f"{API}/operations/{'x' * 65}/report").status_code == 422


def test_the_schema_declares_the_report_as_html(client: TestClient) -> None:
    route = client.get(f"{API}/openapi.json").json()["paths"][
        f"{API}/operations/{{operation_id}}/report"
    ]
    answers = route["get"]["responses"]
    assert list(answers["200"]["content"]) == ["text/html"]
    assert {"404", "409", "422"} <= set(answers)
    assert "text/html" in answers["404"]["content"]


def test_the_dashboard_is_served_with_a_strict_policy(client: TestClient) -> None:
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 307
    assert root.headers["location"] == "/dashboard/"
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert "<title>ktrdr dashboard</title>" in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    script = client.get("/dashboard/dashboard.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "innerHTML" not in script.text  # every value goes in as text
    assert client.get("/dashboard/dashboard.css").status_code == 200
    assert client.get("/dashboard/../pyproject.toml").status_code == 404
