"""The walk-forward, sweep and children routes: validation up front, fencing, cascade."""

from __future__ import annotations

from typing import Any

import yaml
from fastapi.testclient import TestClient

from ktrdr.core.protocol import WORKER_TOKEN_HEADER
from tests.support import ops

API = "/api/v1"
SPACE = {"indicators.rsi_14.params.period": {"low": 7, "high": 21}}


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert {"detail", "code", "field", "issues"} <= set(body)
    return body


def test_walkforward_requests_are_checked_against_the_data(client: TestClient) -> None:
    start = lambda **body: client.post(  # noqa: E731
        f"{API}/walkforward/start", json={"strategy_name": "stoch_adx_breakout", **body}
    )
    # The request's shape (bounds included): 422, naming the field.
    assert problem(start(folds=21), 422)["field"] == "folds"
    assert problem(start(folds=3, mode="sideways"), 422)["field"] == "mode"
    assert problem(start(folds=3, max_parallel=99), 422)["field"] == "max_parallel"
    assert "together" in problem(start(train_bars=100), 422)["detail"]  # test_bars missing
    # Against the data: 400, naming the field.
    too_many = problem(start(train_bars=100, test_bars=20), 400)
    assert too_many["field"] == "test_bars"
    assert "folds over" in too_many["detail"]
    too_long = problem(start(train_bars=9000, test_bars=9000), 400)
    assert too_long["field"] == "train_bars"
    unknown = client.post(f"{API}/walkforward/start", json={"strategy_name": "nope", "folds": 3})
    assert problem(unknown, 404)["field"] == "strategy_name"
    queued = start(folds=3)
    assert queued.status_code == 200
    operation = client.get(f"{API}/operations/{queued.json()['operation_id']}").json()
    assert operation["type"] == "walkforward"
    assert operation["status"] == "pending"
    assert operation["params"]["folds"] == 3


def test_sweep_spaces_are_checked_path_by_path(client: TestClient) -> None:
    def start(**body: Any) -> Any:
        body = {"strategy_name": "rsi_macd_trend", "space": SPACE, **body}
        return client.post(f"{API}/sweeps/start", json=body)

    bad = problem(
        start(space={"indicators[9].params.period": {"low": 1, "high": 2}, "model.dropout": {}}),
        422,
    )
    assert bad["code"] == "invalid_document"
    assert [i["path"] for i in bad["issues"]] == [
        "params['indicators[9].params.period']",
        "params['model.dropout']",
    ]
    assert bad["issues"][0]["message"] == "strategy has 4 indicators"
    assert "unknown objective" in problem(start(objective="luck"), 422)["detail"]
    assert problem(start(trials=201), 422)["field"] == "trials"
    assert problem(start(parallel=9), 422)["field"] == "parallel"
    resumed = problem(start(resume="0" * 32), 404)
    assert resumed["field"] == "operation_id"
    queued = start(trials=3)
    assert queued.status_code == 200
    earlier = queued.json()["operation_id"]
    busy = problem(start(resume=earlier), 409)  # still pending: one driver per study
    assert busy["field"] == "resume"
    client.delete(f"{API}/operations/{earlier}")
    assert start(resume=earlier).status_code == 200
    other = client.post(
        f"{API}/sweeps/start",
        json={
            "strategy_name": "stoch_adx_breakout",
            "space": {"model.dropout": {"low": 0, "high": 0.5}},
            "resume": earlier,
        },
    )
    assert problem(other, 400)["field"] == "resume"


def register(client: TestClient, worker_id: str) -> str:
    registration = {
        "worker_id": worker_id,
        "worker_type": "training",  # never given the parent: no research worker here
        "endpoint_url": "http://127.0.0.1:1",
        "instance_id": ops.instance_id(worker_id),
    }
    response = client.post(f"{API}/workers/register", json=registration)
    assert response.status_code == 200
    return response.json()["token"]


def test_a_driver_creates_fenced_idempotent_children_and_a_cancel_cascades(
    client: TestClient,
) -> None:
    token = register(client, "drv")
    headers = {WORKER_TOKEN_HEADER: token}
    started = client.post(
        f"{API}/walkforward/start", json={"strategy_name": "stoch_adx_breakout", "folds": 2}
    )
    parent_id = started.json()["operation_id"]
    store = client.app.state.services.operations
    attempt = store.mark_running(parent_id, "drv")
    assert attempt is not None

    def child(key: str, **extra: Any) -> Any:
        body = {"worker_id": "drv", "attempt": attempt, "key": key, "type": "training", **extra}
        return client.post(f"{API}/operations/{parent_id}/children", json=body, headers=headers)

    first = child("fold-1-train", params={"start_date": "2005-01-01", "end_date": "2008-01-01"})
    assert first.status_code == 200, first.text
    assert first.json()["created"] is True
    again = child("fold-1-train")
    # The same child (its status may move: the dispatcher tries the registered worker).
    assert again.json()["operation_id"] == first.json()["operation_id"]
    assert again.json()["created"] is False
    assert child("fold-2-train").json()["created"] is True
    # Refused: a stale attempt, another worker's token, bad params, another strategy.
    stale = client.post(
        f"{API}/operations/{parent_id}/children",
        json={"worker_id": "drv", "attempt": "f" * 32, "key": "fold-3-train", "type": "training"},
        headers=headers,
    )
    assert problem(stale, 409)["code"] == "stale_attempt"
    assert (
        client.post(
            f"{API}/operations/{parent_id}/children",
            json={"worker_id": "drv", "attempt": attempt, "key": "x", "type": "training"},
            headers={WORKER_TOKEN_HEADER: "wrong"},
        ).status_code
        == 403
    )
    assert problem(child("fold-3-train", params={"symbols": "IBM"}), 400)["field"] == (
        "params.symbols"
    )
    other = yaml.safe_dump({**yaml.safe_load(store.strategy_yaml(parent_id)), "name": "other"})
    assert problem(child("fold-3-train", strategy_yaml=other), 400)["field"] == "strategy_yaml"
    assert problem(child("Fold 3"), 422)["field"] == "key"
    assert problem(child("fold-3-train", type="sweep"), 422)["field"] == "type"

    listed = client.get(f"{API}/operations/{parent_id}/children").json()
    assert [c["child_key"] for c in listed["children"]] == ["fold-1-train", "fold-2-train"]
    assert listed["total"] == 2
    assert listed["finished"] == 0
    assert listed["children"][0]["params"]["start_date"] == "2005-01-01"

    cancelled = client.delete(f"{API}/operations/{parent_id}")
    assert cancelled.json()["status"] == "cancelled"
    listed = client.get(f"{API}/operations/{parent_id}/children").json()
    assert {c["status"] for c in listed["children"]} == {"cancelled"}
    assert listed["finished"] == 2
    # The cancelled parent takes no more children: its driver is told to stop.
    assert problem(child("fold-3-train"), 409)["code"] == "stale_attempt"
