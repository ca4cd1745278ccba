from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support import ops

API = "/api/v1"


def test_health_reports_database_and_workers(client: TestClient) -> None:
    body = client.get(f"{API}/health").json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["workers"] == {"backtesting": 0, "training": 0, "research": 0}
    assert body["operations"]["pending"] == 0


def test_openapi_docs_and_metrics_are_served(client: TestClient) -> None:
    assert client.get(f"{API}/docs").status_code == 200
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    assert f"{API}/trainings/start" in paths
    client.get(f"{API}/health")
    client.post(f"{API}/trainings/start", json={"strategy_name": "rsi_macd_trend"})
    registration = {
        "worker_id": "bt-1",
        "worker_type": "backtesting",
        "endpoint_url": "http://127.0.0.1:1",
        "instance_id": ops.instance_id("bt-1"),
    }
    assert client.post(f"{API}/workers/register", json=registration).status_code == 200
    response = client.get("/metrics", follow_redirects=False)
    assert response.status_code == 200  # no redirect to /metrics/
    metrics = response.text
    assert 'ktrdr_http_requests_total{method="GET",route="/health",status="200"}' in metrics
    assert 'ktrdr_operations{status="pending"} 1.0' in metrics
    assert 'ktrdr_workers{status="idle",type="backtesting"} 1.0' in metrics
    assert 'ktrdr_operations_started_total{type="training"}' in metrics


def test_data_symbols_range_and_bars(client: TestClient) -> None:
    symbols = {(s["symbol"], s["timeframe"]) for s in client.get(f"{API}/data/symbols").json()}
    assert {("AAPL", "1d"), ("MSFT", "1d"), ("IBM", "1d")} <= symbols
    assert "1d" in client.get(f"{API}/data/timeframes").json()
    span = client.get(f"{API}/data/AAPL/1d/range").json()
    assert span["start"].startswith("2000-03-01")
    bars = client.get(
        f"{API}/data/aapl/1d", params={"start": "2005-01-01", "end": "2005-01-31"}
    ).json()
    assert bars["count"] == 20
    assert bars["bars"][0]["timestamp"].startswith("2005-01-03")


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


def test_unknown_series_and_bad_symbols_are_4xx(client: TestClient) -> None:
    assert problem(client.get(f"{API}/data/NOPE/1d"), 404)["code"] == "not_found"
    # The encoded slash reaches the handler, which refuses the symbol (not the router's 404).
    traversal = problem(client.get(f"{API}/data/..%2Fetc/1d"), 400)
    assert traversal["field"] == "symbol"
    assert "must not contain a path separator" in traversal["detail"]
    assert problem(client.get(f"{API}/data/..%2Fetc/1d/range"), 400)["field"] == "symbol"
    assert problem(client.get(f"{API}/data/AAPL/1x"), 400)["field"] == "timeframe"


def test_indicator_catalogue(client: TestClient) -> None:
    indicators = {i["name"]: i for i in client.get(f"{API}/indicators").json()}
    assert {"rsi", "macd", "bbands", "stoch", "mfi"} <= set(indicators)
    assert indicators["macd"]["outputs"] == ["macd", "signal", "hist"]
    assert client.get(f"{API}/indicators/rsi").json()["params"][0]["default"] == 14
    assert client.get(f"{API}/indicators/nope").status_code == 404


def test_strategies_list_and_get(client: TestClient) -> None:
    listed = {s["name"]: s for s in client.get(f"{API}/strategies").json()}
    assert listed["rsi_macd_trend"]["valid"] is True
    one = client.get(f"{API}/strategies/rsi_macd_trend").json()
    assert one["config"]["training_data"]["symbols"] == ["AAPL", "MSFT"]
    assert problem(client.get(f"{API}/strategies/missing"), 404)["field"] == "strategy_name"
    traversal = problem(client.get(f"{API}/strategies/..%2F..%2Fetc"), 400)
    assert traversal["detail"].startswith("strategy name '../../etc' must start with a letter")


def test_models_list_is_empty_then_unknown_model_404(client: TestClient) -> None:
    assert client.get(f"{API}/models").json() == []
    assert problem(client.get(f"{API}/models/rsi_macd_trend/1d_v1"), 404)["field"] == "model"
    assert problem(client.get(f"{API}/models", params={"strategy": "../x"}), 400)["field"] == (
        "strategy"
    )
    # "/models/../1d_v9" as sent by a client that does not normalise the path.
    upward = problem(client.get(f"{API}/models/%2E%2E/1d_v9"), 400)
    assert upward["detail"].startswith("invalid model id '../1d_v9'")
