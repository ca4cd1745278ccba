from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from ktrdr.control.api.app import create_app
from ktrdr.core.settings import Settings
from ktrdr.research.model_registry import checkpoint_file
from tests.conftest import STRATEGIES_DIR
from tests.support import ops
from tests.unit.control.api.conftest import make_settings

API = "/api/v1"
GOOD_CSV = (
    "timestamp,open,high,low,close,volume\n"
    "2024-01-02,10,11,9,10.5,100\n"
    "2024-01-03,10.5,12,10,11,200\n"
)
BAD_CSV = (
    "timestamp,open,high,low,close,volume\n"
    "2024-01-02,10,11,9,10.5,100\n"
    "2024-01-03,10.5,9,10,11,200\n"  # high < low
    "2024-01-04,abc,12,10,11,200\n"
)


def test_csv_upload_stores_and_bad_csv_names_lines(client: TestClient, settings: Settings) -> None:
    created = client.post(f"{API}/data/test/1d", content=GOOD_CSV)
    assert created.status_code == 201, created.text
    assert created.json()["bars"] == 2
    stored = settings.data_path / "TEST_1d.csv"
    before = stored.read_bytes()

    rejected = client.post(f"{API}/data/TEST/1d", params={"replace": "true"}, content=BAD_CSV)
    assert rejected.status_code == 422
    problem = rejected.json()
    assert problem["code"] == "invalid_document"
    assert problem["detail"].startswith("CSV rejected; nothing was written")
    lines = {int(i["path"].split(",")[0].removeprefix("line ")) for i in problem["issues"]}
    assert {3, 4} <= lines
    assert stored.read_bytes() == before  # nothing already stored was disturbed

    exists = client.post(f"{API}/data/TEST/1d", content=GOOD_CSV)
    assert exists.status_code == 409


def test_upload_size_limit(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_upload_bytes=1024)
    with TestClient(create_app(settings)) as client:
        big = GOOD_CSV + "2024-01-05,10,11,9,10,1\n" * 100
        assert client.post(f"{API}/data/BIG/1d", content=big).status_code == 413


def test_strategy_validate_reports_yaml_paths(client: TestClient) -> None:
    text = (STRATEGIES_DIR / "rsi_macd_trend.yaml").read_text()
    ok = client.post(f"{API}/strategies/validate", content=text).json()
    assert ok == {"valid": True, "name": "rsi_macd_trend", "issues": []}
    bad = text.replace("oversold: [0, 20, 40]", "oversold: [40, 20, 0]")
    found = client.post(f"{API}/strategies/validate", content=bad).json()
    assert found["valid"] is False
    assert found["issues"][0]["path"] == "fuzzy_sets.rsi_zones.oversold"
    broken = client.post(f"{API}/strategies/validate", content="a: [").json()
    assert "line" in broken["issues"][0]["message"]


def test_strategy_upload(client: TestClient, settings: Settings) -> None:
    text = (
        (STRATEGIES_DIR / "stoch_adx_breakout.yaml")
        .read_text()
        .replace("name: stoch_adx_breakout", "name: uploaded_one")
    )
    assert client.put(f"{API}/strategies/uploaded_one", content=text).status_code == 201
    assert (settings.strategies_dir / "uploaded_one.yaml").read_text() == text
    assert client.put(f"{API}/strategies/uploaded_one", content=text).status_code == 409
    mismatch = client.put(f"{API}/strategies/other_name", content=text)
    assert mismatch.status_code == 422
    assert mismatch.json()["issues"][0]["path"] == "name"
    invalid = client.put(f"{API}/strategies/broken", content="name: broken\n")
    assert invalid.status_code == 422
    assert not (settings.strategies_dir / "broken.yaml").exists()


def test_operations_queue_while_no_worker_and_cancel(
    client: TestClient, settings: Settings
) -> None:
    started = client.post(f"{API}/trainings/start", json={"strategy_name": "rsi_macd_trend"})
    assert started.status_code == 200, started.text
    op_id = started.json()["operation_id"]
    assert started.json()["status"] == "pending"
    backtest = client.post(
        f"{API}/backtests/start",
        json={"strategy_name": "rsi_macd_trend", "symbol": "aapl", "position_size": 0.5},
    ).json()
    params = client.get(f"{API}/operations/{backtest['operation_id']}").json()["params"]
    assert params == {"symbol": "AAPL", "position_size": 0.5}  # what the worker receives

    page = client.get(f"{API}/operations", params={"status": "pending"}).json()
    assert page["total"] == 2
    only_training = client.get(f"{API}/operations", params={"type": "training"}).json()
    assert [op["id"] for op in only_training["operations"]] == [op_id]

    state = client.get(f"{API}/operations/{op_id}").json()
    assert set(state) >= {
        "id",
        "type",
        "status",
        "progress",
        "worker_id",
        "error",
        "result",
        "created_at",
        "started_at",
        "completed_at",
    }
    assert client.get(f"{API}/operations/{op_id}/results").status_code == 409
    # A pending training may hold the checkpoint of an attempt whose worker was lost.
    checkpoint = checkpoint_file(settings.models_path, op_id)
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"epochs so far")
    cancelled = client.delete(f"{API}/operations/{op_id}").json()
    assert cancelled["status"] == "cancelled"
    assert not checkpoint.exists()  # nothing resumes a cancelled training
    assert client.delete(f"{API}/operations/{op_id}").status_code == 409
    assert client.get(f"{API}/operations/{backtest['operation_id']}").json()["status"] == "pending"
    assert client.get(f"{API}/operations/nope").status_code == 404


def test_start_requests_are_validated(client: TestClient) -> None:
    def start(kind: str, body: dict) -> int:
        return client.post(f"{API}/{kind}/start", json=body).status_code

    assert start("trainings", {"strategy_name": "missing"}) == 404
    assert start("trainings", {"strategy_name": "../../etc/passwd"}) == 422
    assert start("trainings", {"strategy_name": "rsi_macd_trend", "symbols": ["../x"]}) == 422
    assert start("trainings", {"strategy_name": "rsi_macd_trend", "timeframes": ["1h"]}) == 400
    assert start("backtests", {"strategy_name": "rsi_macd_trend", "timeframe": "1w"}) == 400
    assert start("backtests", {"strategy_name": "rsi_macd_trend", "model": "x/1d_v9"}) == 400
    assert start("backtests", {"strategy_name": "rsi_macd_trend", "model": "v9"}) == 404
    model = "rsi_macd_trend/1d_v9"
    assert start("backtests", {"strategy_name": "rsi_macd_trend", "model": model}) == 404
    # Only ids: a path, even one naming a real model folder, is refused by the schema.
    assert start("backtests", {"strategy_name": "rsi_macd_trend", "model": "/etc/passwd"}) == 422
    assert start("backtests", {"strategy_name": "rsi_macd_trend", "commission": 2}) == 422
    assert start("backtests", {"strategy_name": "rsi_macd_trend", "position_size": 1.5}) == 422
    assert client.post(f"{API}/trainings/start", content="{not json").status_code == 422


def test_api_token_guards_mutations(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_token="s3cret")
    with TestClient(create_app(settings)) as client:
        body = {"strategy_name": "rsi_macd_trend"}
        assert client.post(f"{API}/trainings/start", json=body).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert client.post(f"{API}/trainings/start", json=body, headers=wrong).status_code == 401
        right = {"Authorization": "Bearer s3cret"}
        assert client.post(f"{API}/trainings/start", json=body, headers=right).status_code == 200
        assert client.get(f"{API}/operations").status_code == 200  # reads stay open


def test_worker_secret_guards_registration(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, worker_secret="w0rker")
    registration = {
        "worker_id": "bt-1",
        "worker_type": "backtesting",
        "endpoint_url": "http://127.0.0.1:1",
        "instance_id": ops.instance_id("bt-1"),
    }
    with TestClient(create_app(settings)) as client:
        missing = client.post(f"{API}/workers/register", json=registration)
        assert missing.status_code == 401
        wrong = {"X-Ktrdr-Worker-Secret": "nope"}
        refused = client.post(f"{API}/workers/register", json=registration, headers=wrong)
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"
        ok = client.post(
            f"{API}/workers/register",
            json=registration,
            headers={"X-Ktrdr-Worker-Secret": "w0rker"},
        )
        assert ok.status_code == 200
        workers = client.get(f"{API}/workers").json()
        assert workers[0]["worker_id"] == "bt-1"
        assert workers[0]["worker_type"] == "backtesting"
        assert client.get(f"{API}/workers/bt-1").json()["status"] == "idle"
        assert client.get(f"{API}/workers/none").status_code == 404
        bad = {**registration, "endpoint_url": "file:///etc"}
        headers = {"X-Ktrdr-Worker-Secret": "w0rker"}
        assert client.post(f"{API}/workers/register", json=bad, headers=headers).status_code == 422


def test_operations_survive_a_backend_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings)) as client:
        op_id = client.post(
            f"{API}/trainings/start", json={"strategy_name": "rsi_macd_trend"}
        ).json()["operation_id"]
    with TestClient(create_app(settings)) as client:
        assert client.get(f"{API}/operations/{op_id}").json()["status"] == "pending"
