"""Job parameters are typed once, in the protocol: what the API accepts is what a worker runs."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ktrdr.core.protocol import BacktestParams, OperationDispatch, TrainingParams

ATTEMPT = "a" * 32


def field_errors(model: Any, data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"capital": 5}, "capital", "Extra inputs are not permitted"),
        ({"commission": "free"}, "commission", "valid number"),
        ({"commission": 2}, "commission", "less than 1"),
        ({"commission": float("nan")}, "commission", "finite number"),
        ({"initial_capital": float("inf")}, "initial_capital", "finite number"),
        ({"position_size": 1.5}, "position_size", "less than or equal to 1"),
        ({"symbol": 5}, "symbol", "valid string"),
        ({"symbol": "../x"}, "symbol", "path separator"),
        ({"timeframe": "1x"}, "timeframe", "is not valid"),
        ({"model": "/etc/passwd"}, "model", "pattern"),
        ({"model": "../../x/1d_v1"}, "model", "pattern"),
        ({"model": 0}, "model", "pattern"),  # versions start at 1
        ({"model": True}, "model", "valid string"),
        ({"start_date": "yesterday"}, "start_date", "valid date"),
        ({"symbols": []}, "symbols", "at least 1 item"),
        ({"symbols": ["AAPL", "a/b"]}, "symbols.1", "path separator"),
        ({"symbols": ["X"] * 51}, "symbols", "at most 50 items"),
    ],
)
def test_bad_backtest_params_name_their_field(params: dict, field: str, message: str) -> None:
    errors = field_errors(BacktestParams, params)
    assert field in errors, errors
    assert message in errors[field]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"symbols": []}, "symbols", "at least 1 item"),
        ({"symbols": ["AAPL", "a/b"]}, "symbols.1", "path separator"),
        ({"symbols": ["X"] * 51}, "symbols", "at most 50 items"),
        ({"timeframes": ["1d", "bad"]}, "timeframes.1", "is not valid"),
        ({"epochs": 3}, "epochs", "Extra inputs are not permitted"),
    ],
)
def test_bad_training_params_name_their_field(params: dict, field: str, message: str) -> None:
    errors = field_errors(TrainingParams, params)
    assert field in errors, errors
    assert message in errors[field]


def test_valid_params_are_normalised() -> None:
    params = BacktestParams.model_validate({"symbol": "aapl", "model": "v3", "commission": 0})
    assert params.symbol == "AAPL"
    assert params.model == "v3"
    assert BacktestParams(model=3).model == "v3"  # a bare number is a version
    assert TrainingParams.model_validate({"symbols": ["msft"]}).symbols == ["MSFT"]
    assert BacktestParams.model_validate({"symbols": ["msft", "aapl"]}).symbols == ["MSFT", "AAPL"]


def test_a_backtest_names_one_symbol_or_several_not_both() -> None:
    with pytest.raises(ValueError, match="give symbol or symbols, not both"):
        BacktestParams.model_validate({"symbol": "AAPL", "symbols": ["MSFT"]})


def test_a_dispatch_carries_the_params_of_its_type() -> None:
    training = OperationDispatch.model_validate(
        {
            "operation_id": "op-1",
            "operation_type": "training",
            "attempt": ATTEMPT,
            "strategy_yaml": "",
            "params": {},
        }
    )
    assert isinstance(training.params, TrainingParams)
    backtest = OperationDispatch.model_validate(
        {
            "operation_id": "op-2",
            "operation_type": "backtesting",
            "attempt": ATTEMPT,
            "strategy_yaml": "",
            "params": {"symbol": "ibm"},
        }
    )
    assert isinstance(backtest.params, BacktestParams)
    assert backtest.params.symbol == "IBM"
    again = OperationDispatch.model_validate_json(backtest.model_dump_json())
    assert again == backtest  # what the backend sends is what the worker reads
    with pytest.raises(ValidationError):  # training parameters on a backtest
        OperationDispatch.model_validate(
            {
                "operation_id": "op-3",
                "operation_type": "backtesting",
                "attempt": ATTEMPT,
                "strategy_yaml": "",
                "params": {"timeframes": ["1d"]},  # (symbols: a backtest takes them too)
            }
        )


def test_a_finish_report_carries_a_terminal_status() -> None:
    from ktrdr.core.protocol import FinishReport

    assert FinishReport(worker_id="w", attempt=ATTEMPT, status="completed").status == "completed"
    errors = field_errors(FinishReport, {"worker_id": "w", "attempt": ATTEMPT, "status": "running"})
    assert "completed, failed or cancelled, not running" in errors["status"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:18609/\x1b",  # a control character: httpx would refuse it later
        "http://\u00bc\u00a7:1",  # an IDNA host httpx cannot encode
        "http://127.0.0.1:18610/arbitrary/path?q=",  # the backend would call a path
        "http://user:pw@127.0.0.1:1",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:1#fragment",
        "file:///etc/passwd",
        "http://a..b:1",
    ],
)
def test_a_registration_url_names_only_an_endpoint(url: str) -> None:
    from ktrdr.core.protocol import WorkerRegistration

    errors = field_errors(
        WorkerRegistration,
        {
            "worker_id": "w",
            "worker_type": "training",
            "endpoint_url": url,
            "instance_id": "b" * 32,
        },
    )
    assert "endpoint_url" in errors


def test_a_registration_url_is_kept_without_its_slash() -> None:
    from ktrdr.core.protocol import WorkerRegistration

    registration = WorkerRegistration(
        worker_id="w",
        worker_type="training",
        endpoint_url="http://backtest-worker:5003/",
        instance_id="b" * 32,
    )
    assert registration.endpoint_url == "http://backtest-worker:5003"
