"""Every route that changes something needs a credential, found from the app itself.

The routes are read from the OpenAPI schema, so a route added later is covered without
editing this file: each mutating route needs the API token or the worker secret (and
documents 401/403), except the ones listed as open on purpose.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ktrdr.control.api.app import create_app
from ktrdr.core.protocol import WORKER_SECRET_HEADER
from tests.unit.control.api.conftest import make_settings

TOKEN, SECRET = "t0ken", "s3cret"
MUTATING = {"post", "put", "patch", "delete"}
# Validation reads a body and stores nothing; it is as open as the read routes.
OPEN_ON_PURPOSE = {("post", "/api/v1/strategies/validate")}
WORKER_ROUTES = re.compile(
    r"^/api/v1/(workers/|operations/\{operation_id\}/(progress|finish|children(/\{key\}/cancel)?)$)"
)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    settings = make_settings(tmp_path_factory.mktemp("auth"), api_token=TOKEN, worker_secret=SECRET)
    with TestClient(create_app(settings)) as client:
        yield client


def mutating_routes(client: TestClient) -> list[tuple[str, str]]:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    return sorted(
        (method, path) for path, item in paths.items() for method in item if method in MUTATING
    )


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


def test_the_schema_lists_the_mutating_routes(guarded: TestClient) -> None:
    # A new mutating route shows up here first: decide which credential it needs.
    assert mutating_routes(guarded) == [
        ("delete", "/api/v1/operations/{operation_id}"),
        ("delete", "/api/v1/workers/{worker_id}"),
        ("post", "/api/v1/backtests/start"),
        ("post", "/api/v1/data/{symbol}/{timeframe}"),
        ("post", "/api/v1/operations/{operation_id}/children"),
        ("post", "/api/v1/operations/{operation_id}/children/{key}/cancel"),
        ("post", "/api/v1/operations/{operation_id}/finish"),
        ("post", "/api/v1/operations/{operation_id}/progress"),
        ("post", "/api/v1/strategies/validate"),
        ("post", "/api/v1/sweeps/start"),
        ("post", "/api/v1/trainings/start"),
        ("post", "/api/v1/walkforward/start"),
        ("post", "/api/v1/workers/register"),
        ("post", "/api/v1/workers/{worker_id}/heartbeat"),
        ("put", "/api/v1/strategies/{name}"),
    ]


def test_each_mutating_route_needs_its_credential(guarded: TestClient) -> None:
    for method, path in mutating_routes(guarded):
        if (method, path) in OPEN_ON_PURPOSE:
            continue
        url = concrete(path)
        worker_route = bool(WORKER_ROUTES.match(path))
        missing = guarded.request(method, url, json={})
        assert missing.status_code == 401, (method, path, missing.text)
        wrong_header = (
            {WORKER_SECRET_HEADER: "guess"} if worker_route else {"Authorization": "Bearer guess"}
        )
        wrong = guarded.request(method, url, json={}, headers=wrong_header)
        assert wrong.status_code == (403 if worker_route else 401), (method, path, wrong.text)
        # The other credential does not open it.
        other = (
            {"Authorization": f"Bearer {TOKEN}"} if worker_route else {WORKER_SECRET_HEADER: SECRET}
        )
        assert guarded.request(method, url, json={}, headers=other).status_code in {401, 403}


def test_each_mutating_route_documents_its_auth_answers(guarded: TestClient) -> None:
    paths = guarded.get("/api/v1/openapi.json").json()["paths"]
    for method, path in mutating_routes(guarded):
        if (method, path) in OPEN_ON_PURPOSE:
            continue
        assert {"401", "403"} <= set(paths[path][method]["responses"]), (method, path)


def test_the_right_credential_passes_the_check(guarded: TestClient, tmp_path: Path) -> None:
    # Past the check the route does its work (here: refuses an empty body with 422).
    token = {"Authorization": f"Bearer {TOKEN}"}
    assert guarded.post("/api/v1/trainings/start", json={}, headers=token).status_code == 422
    secret = {WORKER_SECRET_HEADER: SECRET}
    assert guarded.post("/api/v1/workers/register", json={}, headers=secret).status_code == 422
    assert guarded.get("/api/v1/operations").status_code == 200  # reads stay open
