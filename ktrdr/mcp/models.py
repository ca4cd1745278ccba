"""What the tools answer: the public API's bodies, plus what an agent needs next.

Every tool declares one of these (or an API model) as its result, so the SDK publishes a
typed output schema and the agent receives ``structured_content`` that matches it.
``truncated`` maps the dotted path of each list that was sampled down (see
:mod:`ktrdr.mcp.limits`) to its full length.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ktrdr.core.api_models import (
    Health,
    ModelDetail,
    Operation,
    OperationResults,
    OperationStarted,
    OperationSummary,
)
from ktrdr.core.enums import OperationStatus, OperationType
from ktrdr.core.progress import Progress

Truncated = dict[str, int]
TRUNCATED = Field(
    default_factory=dict,
    description="Lists that were sampled down: dotted path -> full length (raise max_items).",
)


class BackendHealth(Health):
    api_url: str = Field(description="The backend this MCP server talks to (KTRDR_API_URL).")


class DataSummary(BaseModel):
    symbol: str
    timeframe: str
    start: str
    end: str
    bars: int | None = Field(description="Bars stored; None for a timeframe derived on read.")
    source: Literal["user", "sample", "derived"]
    timeframes: list[str] = Field(description="Every timeframe this symbol can be read in.")


class Started(OperationStarted):
    strategy_name: str
    hint: str = Field(description="What to call next.")


class OperationList(BaseModel):
    operations: list[OperationSummary]
    total: int = Field(description="Operations matching the filters (all pages).")
    returned: int


class OperationState(Operation):
    terminal: bool = Field(description="completed, failed or cancelled: it will not change.")
    waited_seconds: float = Field(description="How long this call waited for the operation.")
    truncated: Truncated = TRUNCATED


class Cancelled(OperationSummary):
    reason: str | None = Field(
        default=None, description="The reason given; logged by the MCP server, not stored."
    )


class Results(OperationResults):
    truncated: Truncated = TRUNCATED


class OperationMetrics(BaseModel):
    operation_id: str
    type: OperationType
    status: OperationStatus
    progress: Progress
    model_id: str | None = None
    metrics: dict[str, Any] | None = Field(
        description="Training: loss and accuracy per split; backtest: returns, Sharpe, "
        "drawdown, trades. None until the operation completes."
    )
    history: list[dict[str, Any]] | None = Field(
        default=None, description="Training only: train_loss, val_loss, val_accuracy per epoch."
    )
    per_symbol: dict[str, Any] | None = Field(
        default=None,
        description="A backtest of several symbols: each symbol's metrics (metrics above "
        "are the first symbol's).",
    )
    combined: dict[str, Any] | None = Field(
        default=None,
        description="A backtest of several symbols: the metrics of their equal-weight "
        "portfolio (each symbol starts with an equal share of the capital).",
    )
    best_epoch: int | None = None
    epochs_since_improvement: int | None = None
    truncated: Truncated = TRUNCATED


class ModelPerformance(ModelDetail):
    operation_id: str | None = Field(
        default=None, description="The training operation that produced it, when asked by it."
    )
    truncated: Truncated = TRUNCATED


class Prediction(BaseModel):
    model_id: str | None = Field(description="The model that decided (None if not finished).")
    symbol: str | None
    timeframe: str | None
    bar: str | None = Field(description="Timestamp of the bar the decision is for.")
    signal: Literal["BUY", "HOLD", "SELL"] | None = Field(
        description="The decision after the strategy's confidence threshold (None if the "
        "backtest that computes it has not finished)."
    )
    operation_id: str = Field(description="The one-bar backtest that computed it.")
    status: OperationStatus
