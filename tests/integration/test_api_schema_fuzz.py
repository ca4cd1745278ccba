"""Schemathesis over every operation of the OpenAPI schema, with and without credentials.

Each generated request (100 per operation) is sent twice, once without credentials and
once with the API token and the worker secret, and every answer must be: no 5xx, a
status the schema declares for that operation, a body that matches the declared model,
the declared content type; and schema-invalid data must be refused.

Not checked: that every schema-valid request is accepted. Some rules need more than the
schema can say (a training's timeframes must be its strategy's, a model must belong to
the strategy backtested), and those answer a documented 400 naming the field.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ktrdr.control.api.app import create_app
from ktrdr.core.protocol import WORKER_SECRET_HEADER
from tests.unit.control.api.conftest import make_settings

pytestmark = pytest.mark.integration
TOKEN, SECRET = "fuzz-token", "fuzz-secret"
EXAMPLES = 100
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
CREDENTIALS = {"Authorization": f"Bearer {TOKEN}", WORKER_SECRET_HEADER: SECRET}

_home = Path(tempfile.mkdtemp(prefix="ktrdr-fuzz-"))
APP = create_app(make_settings(_home, api_token=TOKEN, worker_secret=SECRET))
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _running_backend() -> Iterator[None]:
    with TestClient(APP):  # the lifespan: database, services
        yield


def test_the_schema_has_every_operation() -> None:
    operations = {
        (op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())
    }
    assert ("POST", "/api/v1/trainings/start") in operations
    assert ("GET", "/api/v1/operations/{operation_id}") in operations
    assert len(operations) >= 25


def test_each_operation_is_its_own_test_item(request: pytest.FixtureRequest) -> None:
    """xdist schedules by node id: items sharing one would run one operation of them all
    (see ``pytest_collection_modifyitems`` in tests/conftest.py)."""
    fuzz = test_every_answer_is_declared_and_no_input_is_a_server_error.__name__
    ids = [item.nodeid for item in request.session.items if item.name.startswith(fuzz)]
    assert len(ids) == len(set(ids)), sorted(ids)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_declared_and_no_input_is_a_server_error(
    case: schemathesis.Case,
) -> None:
    case.call_and_validate(checks=CHECKS)
    case.call_and_validate(checks=CHECKS, headers=CREDENTIALS)
