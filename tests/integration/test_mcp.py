"""The MCP server against a live backend with real workers, through the SDK's own client.

Over stdio (``python -m ktrdr.mcp`` and ``ktrdr mcp`` as subprocesses) and over streamable
HTTP (``--transport http``): the tool list; a broken strategy refused with its YAML path;
train, wait, backtest the new model, read results and metrics; cancel a running training;
the API token required over HTTP and passed on to the backend; a stopped backend answered
as a tool error while the server lives on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import anyio
import pytest
from mcp import ClientSession

from tests.support.http import HTTP
from tests.support.mcp_client import (
    CLI_COMMAND,
    McpHttpServer,
    call,
    http_session,
    stdio_session,
    structured,
    tool_error,
)
from tests.support.stack import Stack, canary_strategy, full_stack

pytestmark = pytest.mark.integration
TOKEN = "mcp-test-token"
TOOLS = {
    "check_backend_health",
    "get_available_symbols",
    "get_market_data",
    "get_data_summary",
    "get_available_indicators",
    "get_available_strategies",
    "get_model_performance",
    "test_model_prediction",
    "list_operations",
    "get_operation_status",
    "cancel_operation",
    "get_operation_results",
    "get_operation_metrics",
    "start_training",
    "start_backtest",
    "start_walkforward",
    "start_sweep",
    "validate_strategy",
    "upload_strategy",
    "list_models",
    "list_workers",
}
BROKEN = canary_strategy().replace("{type: rsi,", "{type: rsx,")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Backend (requiring TOKEN for writes), one training and one backtest worker."""
    with full_stack(tmp_path_factory.mktemp("mcp") / "home", KTRDR_API_TOKEN=TOKEN) as running:
        yield running


@pytest.fixture
def errlog(tmp_path: Path) -> Iterator[TextIO]:
    with (tmp_path / "mcp-server.log").open("w") as log:
        yield log


def test_stdio_lists_tools_resources_and_the_prompt(stack: Stack, errlog: TextIO) -> None:
    async def scenario() -> None:
        async with stdio_session(stack.api_url, TOKEN, errlog) as session:
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert set(tools) == TOOLS
            for tool in tools.values():
                assert len(tool.description or "") > 80, tool.name
                assert tool.output_schema, f"{tool.name} has no output schema"
            training = tools["start_training"].input_schema
            assert training["required"] == ["strategy_name"]
            optional = {"symbols", "timeframes", "start_date", "end_date"}
            assert optional <= set(training["properties"])
            backtest = tools["start_backtest"].input_schema["properties"]
            assert {"model_path", "initial_capital", "commission", "slippage"} <= set(backtest)
            wait = tools["get_operation_status"].input_schema["properties"]["wait_seconds"]
            assert wait["maximum"] == 120

            resources = {str(r.uri) for r in (await session.list_resources()).resources}
            assert resources == {"ktrdr://strategies", "ktrdr://indicators"}
            templates = (await session.list_resource_templates()).resource_templates
            assert [t.uri_template for t in templates] == ["ktrdr://strategies/{name}"]
            catalogue = await session.read_resource("ktrdr://indicators")
            assert "rsi" in {entry["name"] for entry in json.loads(catalogue.contents[0].text)}

            prompt = await session.get_prompt("research_loop", {"goal": "beat buy and hold"})
            text = prompt.messages[0].content.text
            assert "validate_strategy" in text
            assert "beat buy and hold" in text

    anyio.run(scenario)


def test_stdio_a_broken_strategy_is_refused_with_its_yaml_path(
    stack: Stack, errlog: TextIO
) -> None:
    async def scenario() -> None:
        async with stdio_session(stack.api_url, TOKEN, errlog) as session:
            checked = structured(await call(session, "validate_strategy", yaml_text=BROKEN))
            assert checked["valid"] is False
            assert [i["path"] for i in checked["issues"]] == ["indicators.rsi_14.type"]
            assert "rsx" in checked["issues"][0]["message"]

            refused = await call(session, "upload_strategy", name="canary_smoke", yaml_text=BROKEN)
            error = tool_error(refused)
            assert error["status"] == 422
            assert error["field"] == "indicators.rsi_14.type"
            assert "indicators.rsi_14.type" in refused.content[0].text
            listed = structured(await call(session, "get_available_strategies"))["result"]
            assert "canary_smoke" not in {s["name"] for s in listed}  # nothing stored

            both = await call(session, "validate_strategy", yaml_text=BROKEN, strategy_name="x")
            assert tool_error(both)["code"] == "invalid_argument"

    anyio.run(scenario)


def test_stdio_walkforward_and_sweep_are_queued_or_refused_by_field(
    stack: Stack, errlog: TextIO
) -> None:
    async def scenario() -> None:
        async with stdio_session(stack.api_url, TOKEN, errlog) as session:
            await call(
                session, "upload_strategy", name="mcp_scale", yaml_text=canary_strategy("mcp_scale")
            )
            walked = structured(
                await call(session, "start_walkforward", strategy_name="mcp_scale", folds=2)
            )
            assert walked["status"] == "pending"  # this stack has no research worker
            space = {"indicators[5].params.period": {"low": 7, "high": 21}}
            refused = await call(session, "start_sweep", strategy_name="mcp_scale", space=space)
            error = tool_error(refused)
            assert error["status"] == 422
            assert error["field"] == "params['indicators[5].params.period']"
            assert "strategy has 2 indicators" in refused.content[0].text
            for op_id in (walked["operation_id"],):
                await call(session, "cancel_operation", operation_id=op_id)

    anyio.run(scenario)


def test_stdio_train_wait_backtest_the_new_model_and_read_results(
    stack: Stack, errlog: TextIO
) -> None:
    async def scenario() -> None:
        async with stdio_session(stack.api_url, TOKEN, errlog) as session:
            health = structured(await call(session, "check_backend_health"))
            assert health["workers"] == {"backtesting": 1, "training": 1, "research": 0}
            stored = await call(
                session, "upload_strategy", name="canary_smoke", yaml_text=canary_strategy()
            )
            assert structured(stored)["valid"] is True  # the token went on to the backend

            started = structured(
                await call(session, "start_training", strategy_name="canary_smoke")
            )
            trained = structured(
                await call(
                    session,
                    "get_operation_status",
                    operation_id=started["operation_id"],
                    wait_seconds=90,
                )
            )
            assert trained["terminal"] is True
            assert trained["status"] == "completed", trained["error"]
            model_id = trained["result"]["model_id"]
            assert model_id.startswith("canary_smoke/1d_v")

            metrics = structured(
                await call(session, "get_operation_metrics", operation_id=started["operation_id"])
            )
            assert metrics["model_id"] == model_id
            assert len(metrics["history"]) == 5  # the canary trains 5 epochs
            assert 0 <= metrics["metrics"]["test"]["accuracy"] <= 1
            performance = structured(await call(session, "get_model_performance", task_id=model_id))
            assert performance["id"] == model_id

            backtest = structured(
                await call(
                    session, "start_backtest", strategy_name="canary_smoke", model_path=model_id
                )
            )
            done = structured(
                await call(
                    session,
                    "get_operation_status",
                    operation_id=backtest["operation_id"],
                    wait_seconds=90,
                )
            )
            assert done["status"] == "completed", done["error"]
            results = structured(
                await call(
                    session,
                    "get_operation_results",
                    operation_id=backtest["operation_id"],
                    max_items=5,
                )
            )
            result = results["result"]
            assert result["model_id"] == model_id
            assert result["range"]["source"] == "test_split"
            assert "sharpe_ratio" in result["metrics"]
            assert len(result["equity_curve"]) == 5
            assert results["truncated"]["equity_curve"] == result["bars"] > 5
            backtest_metrics = structured(
                await call(session, "get_operation_metrics", operation_id=backtest["operation_id"])
            )
            assert backtest_metrics["metrics"] == result["metrics"]

            prediction = structured(
                await call(session, "test_model_prediction", model_name=model_id)
            )
            assert prediction["signal"] in {"BUY", "HOLD", "SELL"}
            assert prediction["model_id"] == model_id

            # An unfinished request is a tool error carrying the backend's field.
            missing = await call(session, "get_operation_results", operation_id="nope")
            assert tool_error(missing)["status"] == 404
            other_timeframes = await call(
                session, "start_training", strategy_name="canary_smoke", timeframes=["1h"]
            )
            assert tool_error(other_timeframes)["field"] == "timeframes"

    anyio.run(scenario)


def test_http_requires_the_token_and_cancels_a_running_training(
    stack: Stack, tmp_path: Path
) -> None:
    with McpHttpServer(stack.api_url, TOKEN, tmp_path / "mcp-http.log") as server:
        assert HTTP.post(server.url, json={}).status_code == 401
        wrong = HTTP.post(server.url, json={}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert HTTP.get(f"{server.base}/healthz").json()["status"] == "ok"

        async def scenario() -> None:
            async with http_session(server.url, TOKEN) as session:
                assert {t.name for t in (await session.list_tools()).tools} == TOOLS
                long = canary_strategy("canary_long", epochs=5000)
                await call(session, "upload_strategy", name="canary_long", yaml_text=long)
                started = structured(
                    await call(session, "start_training", strategy_name="canary_long")
                )
                operation_id = started["operation_id"]
                await running_with_progress(session, operation_id)
                reports: list[float] = []

                async def on_progress(done: float, total: float | None, message: str | None):
                    reports.append(done)

                waited = await session.call_tool(
                    "get_operation_status",
                    {"operation_id": operation_id, "wait_seconds": 1.5},
                    progress_callback=on_progress,
                )
                state = structured(waited)
                assert state["terminal"] is False
                assert state["status"] == "running"
                assert 1.5 <= state["waited_seconds"] < 5
                assert reports
                assert 0 < reports[-1] <= 100
                cancelled = structured(
                    await call(session, "cancel_operation", operation_id=operation_id, reason="t")
                )
                assert cancelled["status"] == "cancelled"
                again = await call(session, "cancel_operation", operation_id=operation_id)
                assert tool_error(again)["status"] == 409
                final = structured(
                    await call(session, "get_operation_status", operation_id=operation_id)
                )
                assert final["status"] == "cancelled"
                assert final["terminal"] is True

        anyio.run(scenario)


async def running_with_progress(session: ClientSession, operation_id: str) -> None:
    with anyio.fail_after(60):
        while True:
            state = structured(
                await call(session, "get_operation_status", operation_id=operation_id)
            )
            if state["status"] == "running" and state["progress"]["percent"] > 0:
                return
            await anyio.sleep(0.1)


def test_a_stopped_backend_is_a_tool_error_and_the_server_lives_on(
    tmp_path: Path, errlog: TextIO
) -> None:
    backend = Stack(home=tmp_path / "home")
    backend.start_backend()
    try:

        async def scenario() -> None:
            async with stdio_session(backend.api_url, None, errlog, CLI_COMMAND) as session:
                assert structured(await call(session, "check_backend_health"))["status"] == "ok"
                backend.stop("backend")
                down = await call(session, "check_backend_health")
                error = tool_error(down)
                assert error["code"] == "backend_unreachable"
                assert error["backend"] == backend.api_url
                assert "not reachable" in down.content[0].text
                assert tool_error(await call(session, "list_models"))["status"] is None
                assert len((await session.list_tools()).tools) == len(TOOLS)  # still serving
                backend.start_backend()
                assert structured(await call(session, "check_backend_health"))["status"] == "ok"

        anyio.run(scenario)
    finally:
        backend.stop_all()
