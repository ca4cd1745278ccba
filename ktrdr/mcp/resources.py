"""Resources (the strategies' YAML, the indicator catalogue) and the research-loop prompt."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from ktrdr.client import ApiError
from ktrdr.mcp.backend import Backend
from ktrdr.mcp.errors import error_payload, error_text

T = TypeVar("T")
JSON = "application/json"
YAML = "application/yaml"
MAX_GOAL_CHARS = 2000


def register_resources(server: MCPServer, backend: Backend) -> None:
    async def read(method: Callable[..., T], *args: Any) -> T:
        try:
            return await backend.call(method, *args)
        except ApiError as error:
            message = error_text(error_payload(error, backend.url))
            raise (ResourceNotFoundError if error.status == 404 else ResourceError)(
                message
            ) from error

    @server.resource("ktrdr://strategies", name="strategies", mime_type=JSON)
    async def strategy_index() -> str:
        """Every stored strategy (name, symbols, timeframes, valid, issues) as JSON; each one's
        YAML is ktrdr://strategies/{name}."""
        found = await read(backend.client.strategies)
        return json.dumps([s.model_dump(mode="json") for s in found], indent=2)

    @server.resource("ktrdr://strategies/{name}", name="strategy", mime_type=YAML)
    async def strategy_yaml(name: str) -> str:
        """A stored strategy's YAML document, as upload_strategy stored it."""
        detail = await read(backend.client.strategy, name)
        return detail.yaml

    @server.resource("ktrdr://indicators", name="indicators", mime_type=JSON)
    async def indicator_catalogue() -> str:
        """The indicator catalogue as JSON: each indicator's parameters (defaults, bounds)
        and outputs, what a strategy's `indicators:` entries may use."""
        found = await read(backend.client.indicators)
        return json.dumps([i.model_dump(mode="json") for i in found], indent=2)


RESEARCH_LOOP = """\
You are doing trading-strategy research with ktrdr through its MCP tools. {focus}

Work in this loop, one change at a time, and keep a short log of what you tried:

1. Orient: check_backend_health (a training and a backtest worker must be registered),
   get_available_strategies, get_available_symbols, get_available_indicators. Read a
   strategy's YAML from the resource ktrdr://strategies/{{name}}.
2. Draft: write or change a strategy's YAML (indicators, fuzzy_sets, model, training,
   decisions, training_data). Give a new idea a new `name:`.
3. Validate: validate_strategy(yaml_text=...). Fix every issue by its YAML path and
   validate again until `valid` is true; then upload_strategy(name, yaml_text).
4. Train: start_training(strategy_name), then get_operation_status(operation_id,
   wait_seconds=60) until `terminal` is true. Read get_operation_metrics: test
   accuracy, and best_epoch against epochs_run (a late best epoch with falling val_loss
   may need more epochs; an early one with rising val_loss is overfitting).
5. Backtest: start_backtest(strategy_name) without dates runs on the model's out-of-sample
   test split; wait for it the same way, then get_operation_results: total return,
   Sharpe, max drawdown, win rate, number of trades, signal counts.
6. Compare: against the previous models of the strategy (list_models) and earlier
   backtests (list_operations(operation_type="backtesting", status="completed")). Judge
   on the test split only; a result with a handful of trades says little.
7. Decide the next change, or stop and report: the best model id, its backtest
   metrics, and what you learned.

Never tune on the test split by repeated peeking without saying so; a training that
runs too long can be stopped with cancel_operation.
"""


def register_prompts(server: MCPServer) -> None:
    @server.prompt(name="research_loop", title="Research loop")
    def research_loop(strategy_name: str = "", goal: str = "") -> str:
        """The research loop: validate, upload, train, backtest out of sample, compare, iterate.
        Optionally start from a stored strategy and state a goal."""
        focus = []
        if strategy_name:
            focus.append(f"Start from the stored strategy {strategy_name[:64]!r}.")
        if goal:
            focus.append(f"Goal: {goal[:MAX_GOAL_CHARS]}")
        return RESEARCH_LOOP.format(focus=" ".join(focus) or "Pick a strategy to improve.")
