"""The hostile and unlucky inputs that once broke the backend, each answered with a 4xx.

Every case here was a finding: a 500, a hang, memory taken without bound, or an answer
that leaked more than it should. Each now gets a prompt, clear answer naming the field.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ktrdr.control.api.app import create_app
from tests.support.hostile import alias_bomb
from tests.support.paths import STRATEGIES_DIR
from tests.unit.control.api.conftest import make_settings

API = "/api/v1"
EXAMPLE = (STRATEGIES_DIR / "rsi_macd_trend.yaml").read_text()


def problem(response: object, status: int) -> dict:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    return response.json()  # type: ignore[attr-defined]


def test_a_yaml_alias_bomb_is_refused_at_once_and_briefly(client: TestClient) -> None:
    bomb = alias_bomb()
    assert len(bomb) < 1500
    answer = client.post(f"{API}/strategies/validate", content=bomb)
    body = answer.json()
    assert answer.status_code == 200
    assert body["valid"] is False
    assert "more than 100000 values once its aliases are expanded" in body["issues"][0]["message"]
    assert len(answer.content) < 1000  # the message quotes nothing of the expanded value


def test_deep_nesting_is_an_issue_not_a_server_error(client: TestClient) -> None:
    deep = "a: " + "[" * 50_000 + "]" * 50_000
    answer = client.post(f"{API}/strategies/validate", content=deep)
    assert answer.status_code == 200
    assert "nesting deeper than 64 levels" in answer.json()["issues"][0]["message"]


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        (
            "hidden_layers: [32, 16]",
            "hidden_layers: [" + ", ".join(["4096"] * 9) + "]",
            "model.hidden_layers",
            "at most 8 items",
        ),
        (
            "hidden_layers: [32, 16]",
            "hidden_layers: [4096, 4096, 4096]",
            "model.hidden_layers",
            "at most 20000000 fit a worker",
        ),
        (
            "learning_rate: 0.001",
            "learning_rate: 0.001\n  weight_decay: .inf",
            "training.weight_decay",
            "finite",
        ),
        (
            "seed: 42",
            "seed: 1180591620717411303424",
            "training.seed",
            "less than or equal to",
        ),
    ],
    ids=["too-many-layers", "too-many-weights", "infinite-weight-decay", "seed-2-70"],
)
def test_strategies_that_would_break_a_worker_are_refused_with_their_path(
    client: TestClient, old: str, new: str, path: str, message: str
) -> None:
    assert old in EXAMPLE
    answer = client.post(f"{API}/strategies/validate", content=EXAMPLE.replace(old, new, 1))
    issues = {i["path"]: i["message"] for i in answer.json()["issues"]}
    assert path in issues, issues
    assert message in issues[path]


def test_a_body_too_large_is_refused_before_the_token_is_checked(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_token="t", max_request_bytes=4096)
    with TestClient(create_app(settings)) as client:
        declared = client.post(
            f"{API}/trainings/start",
            content=b"{" + b" " * 10_000 + b"}",
            headers={"content-type": "application/json"},
        )
        assert problem(declared, 413)["code"] == "too_large"

        def chunks():  # no Content-Length: counted as it streams
            for _ in range(100):
                yield b" " * 1024

        streamed = client.post(
            f"{API}/trainings/start", content=chunks(), headers={"content-type": "application/json"}
        )
        assert problem(streamed, 413)["detail"] == (
            "request body larger than 4096 bytes (KTRDR_MAX_REQUEST_BYTES)"
        )
        assert client.get(f"{API}/health").status_code == 200  # and it keeps answering


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/operations?offset=9223372036854775808", "offset"),
        ("/operations?limit=0", "limit"),
        ("/data/AAPL/1d?start=0001-01-01T00:00:00%2B05:00", "timestamp"),
        ("/data/AAPL/1d?end=9999-12-31T23:59:59-05:00", "timestamp"),
        ("/data/AAPL/1d?start=yesterday", "timestamp"),
    ],
)
def test_extreme_query_values_are_4xx_naming_the_field(
    client: TestClient, path: str, field: str
) -> None:
    answer = client.get(f"{API}{path}")
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["field"] == field


def test_csv_dates_near_the_ends_of_time_are_named_by_line(client: TestClient) -> None:
    csv = "timestamp,open,high,low,close,volume\n0001-01-01T00:00:00+05:00,1,2,0.5,1.5,10\n"
    body = problem(client.post(f"{API}/data/EDGE/1d", content=csv), 422)
    assert body["issues"][0]["path"] == "line 2, timestamp"


def test_no_error_carries_a_server_path(client: TestClient, tmp_path: Path) -> None:
    answers = [
        client.get(f"{API}/strategies/missing"),
        client.get(f"{API}/models/rsi_macd_trend/1d_v9"),
        client.get(f"{API}/data/NOPE/1d"),
        client.post(
            f"{API}/backtests/start", json={"strategy_name": "rsi_macd_trend", "model": "v3"}
        ),
    ]
    for answer in answers:
        assert answer.status_code == 404
        assert str(tmp_path) not in answer.text
        assert "/home" not in answer.text


def test_model_files_are_readable_by_others(tmp_path: Path) -> None:
    from ktrdr.research.model_registry import allocate_version, publish_version, write_json_atomic

    version, folder = allocate_version(tmp_path, "demo", "1d")
    write_json_atomic(folder / "metadata.json", {"seed": 1})
    publish_version(tmp_path, "demo", "1d", version)
    for path in (folder / "metadata.json", tmp_path / "demo" / "1d_latest"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & stat.S_IRGRP, oct(mode)
        assert mode & stat.S_IROTH, oct(mode)


@pytest.mark.parametrize("variable", ["KTRDR_API_TOKEN", "KTRDR_WORKER_SECRET"])
def test_an_empty_credential_stops_the_backend_with_one_line(variable: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KTRDR_")}
    result = subprocess.run(
        [sys.executable, "-m", "ktrdr.api"],
        env={**env, "KTRDR_HOME": str(tmp_path), variable: ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"ktrdr: {variable} is set but empty: unset it to run without one, or give a value"
    )
