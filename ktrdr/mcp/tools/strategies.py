"""Strategies: list, validate (every problem with its YAML path), upload."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from ktrdr.core.api_models import StrategySummary, StrategyValidation
from ktrdr.mcp.backend import Backend
from ktrdr.mcp.errors import ToolArgumentError, reports_errors
from ktrdr.mcp.tools.common import DESTRUCTIVE_IDEMPOTENT, READ_ONLY, StrategyName
from ktrdr.research.strategies.loader import MAX_STRATEGY_BYTES

StrategyYaml = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_STRATEGY_BYTES,
        description="The whole strategy YAML document (read one with the resource "
        "ktrdr://strategies/{name}).",
    ),
]


def register(server: MCPServer, backend: Backend) -> None:
    guarded = reports_errors(backend.url)

    @server.tool(annotations=READ_ONLY)
    @guarded
    async def get_available_strategies() -> list[StrategySummary]:
        """Every strategy the backend has: name, description, the symbols and timeframes it
        trains on, and whether it validates (an invalid one lists its issues with YAML
        paths). Read one's YAML with the resource ktrdr://strategies/{name}."""
        return await backend.call(backend.client.strategies)

    @server.tool(annotations=READ_ONLY)
    @guarded
    async def validate_strategy(
        yaml_text: StrategyYaml | None = None, strategy_name: StrategyName | None = None
    ) -> StrategyValidation:
        """Validate a strategy before training it: pass the YAML text (a draft), or the name of
        a stored strategy. Every problem comes back in `issues` with its YAML path (e.g.
        `indicators.rsi.params.period`) and what is wrong; fix them all, validate again,
        then upload_strategy. Nothing is stored."""
        if (yaml_text is None) == (strategy_name is None):
            raise ToolArgumentError(
                "pass exactly one of yaml_text (a draft) or strategy_name (a stored strategy)",
                field="yaml_text" if yaml_text is None else "strategy_name",
            )
        if yaml_text is not None:
            return await backend.call(backend.client.validate_strategy, yaml_text)
        assert strategy_name is not None
        stored = await backend.call(backend.client.strategy, strategy_name)
        return StrategyValidation(
            valid=stored.valid, name=stored.name if stored.valid else None, issues=stored.issues
        )

    @server.tool(annotations=DESTRUCTIVE_IDEMPOTENT)
    @guarded
    async def upload_strategy(
        name: StrategyName, yaml_text: StrategyYaml, replace: bool = False
    ) -> StrategySummary:
        """Store a strategy as <name> so that start_training and start_backtest can use it.
        It must validate (an invalid one is refused, each problem named by its YAML path,
        nothing stored) and its `name:` must equal <name>. An existing strategy is only
        overwritten with replace=true; models trained on the old version stay."""
        return await backend.call(backend.client.upload_strategy, name, yaml_text, replace)
