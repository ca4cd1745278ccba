"""Argument types and annotations shared by the tools."""

from __future__ import annotations

from typing import Annotated

from mcp.types import ToolAnnotations
from pydantic import Field

from ktrdr.mcp.limits import DEFAULT_MAX_ITEMS, MAX_ITEMS

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
STARTS_WORK = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
# Ends or overwrites something the backend holds (cancel, replace a strategy); calling it
# again with the same arguments changes nothing more.
DESTRUCTIVE_IDEMPOTENT = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)

StrategyName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="A strategy name, as get_available_strategies lists it (rsi_macd_trend).",
    ),
]
OperationId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="The operation_id that start_training / start_backtest returned.",
    ),
]
Symbol = Annotated[str, Field(min_length=1, max_length=64, description="e.g. AAPL, EURUSD")]
Timeframe = Annotated[str, Field(min_length=1, max_length=8, description="e.g. 1d, 1h, 1w")]
IsoDate = Annotated[
    str, Field(min_length=4, max_length=40, description="ISO-8601 date, e.g. 2012-06-01")
]
MaxItems = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_ITEMS,
        description="Longer lists in the answer (trades, equity curve, epoch history) are "
        "sampled evenly down to this many entries, first and last kept.",
    ),
]
DEFAULT_ITEMS = DEFAULT_MAX_ITEMS
