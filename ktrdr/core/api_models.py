"""The bodies of the public API, as the backend answers them and its clients read them.

Every route of the backend declares one of these as its response model, so the OpenAPI
schema documents every body; the HTTP client (:mod:`ktrdr.client`), the CLI and any
later client parse the same models. Nothing here touches a server path: a client sees
ids and names, never where the backend keeps its files.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ktrdr.core.enums import OperationStatus, OperationType, WorkerStatus, WorkerType
from ktrdr.core.progress import Progress
from ktrdr.core.protocol import WorkerCapabilities


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")  # clients tolerate fields added later


# -- errors -----------------------------------------------------------------------------


class ProblemIssue(_Body):
    """One problem: ``path`` is a YAML path, ``line N`` of a CSV, or a request field."""

    path: str
    message: str


class Problem(_Body):
    """Every error answer: what went wrong, where, and an id to find it in the logs."""

    detail: str
    code: str = Field(description="invalid_input, not_found, conflict, unauthorized, ...")
    field: str | None = None
    issues: list[ProblemIssue] = Field(default_factory=list)
    request_id: str | None = None


# -- health -----------------------------------------------------------------------------


class Health(_Body):
    status: Literal["ok", "degraded"]
    version: str
    database: str
    workers: dict[WorkerType, int]
    workers_by_status: dict[WorkerType, dict[WorkerStatus, int]]
    operations: dict[OperationStatus, int]


# -- data -------------------------------------------------------------------------------


class SeriesSummary(_Body):
    symbol: str
    timeframe: str
    source: Literal["user", "sample"]
    bars: int
    start: str | None
    end: str | None


class BarBody(_Body):
    timestamp: str
    open: float
    high: float
    low: float
    close: float
    volume: float


class Bars(_Body):
    symbol: str
    timeframe: str
    count: int
    bars: list[BarBody]


class DateRange(_Body):
    symbol: str
    timeframe: str
    start: str
    end: str


class GapBody(_Body):
    start: str
    end: str
    missing_bars: int
    expected: bool
    reason: str
    line: int


class SeriesImported(_Body):
    symbol: str
    timeframe: str
    bars: int
    start: str
    end: str
    replaced: bool
    gaps: list[GapBody]


# -- indicators and strategies ----------------------------------------------------------


class IndicatorParam(_Body):
    name: str
    type: str
    default: float | int | None
    min: float | int | None
    max: float | int | None
    description: str


class IndicatorSpecBody(_Body):
    name: str
    title: str
    description: str
    inputs: list[str]
    params: list[IndicatorParam]
    outputs: list[str]
    primary_output: str


class StrategySummary(_Body):
    name: str
    version: str | None = None
    description: str | None = None
    symbols: list[str] = Field(default_factory=list)
    timeframes: list[str] = Field(default_factory=list)
    valid: bool
    issues: list[ProblemIssue] = Field(default_factory=list)


class StrategyDetail(_Body):
    name: str
    yaml: str
    valid: bool
    config: dict[str, Any] | None
    issues: list[ProblemIssue]


class StrategyValidation(_Body):
    valid: bool
    name: str | None
    issues: list[ProblemIssue]


# -- operations -------------------------------------------------------------------------


class OperationStarted(_Body):
    operation_id: str
    status: OperationStatus


class OperationSummary(_Body):
    """An operation without its result (lists and cancels). Times are UTC."""

    id: str
    type: OperationType
    status: OperationStatus
    strategy_name: str
    params: dict[str, Any]
    progress: Progress
    worker_id: str | None
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    # A child of a walk-forward or sweep: its parent, and its name within it (fold-2-train).
    parent_id: str | None = None
    child_key: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal


class Operation(OperationSummary):
    """An operation with its result (once completed): what the operations store keeps."""

    result: dict[str, Any] | None

    def summary(self) -> OperationSummary:
        return OperationSummary.model_validate(self.model_dump(exclude={"result"}))


class OperationPage(_Body):
    operations: list[OperationSummary]
    total: int
    limit: int
    offset: int


class OperationChildren(_Body):
    """A parent's children (oldest first), how many are in each status, and its progress."""

    parent_id: str
    children: list[OperationSummary]
    counts: dict[OperationStatus, int]
    finished: int
    total: int


class ChildCreated(_Body):
    """A driver's child: new, or the one already there under that key."""

    operation_id: str
    status: OperationStatus
    created: bool


class OperationResults(_Body):
    operation_id: str
    type: OperationType
    result: dict[str, Any]


class Accepted(_Body):
    accepted: bool


# -- workers and models -----------------------------------------------------------------


class Worker(_Body):
    worker_id: str
    worker_type: WorkerType
    status: WorkerStatus
    endpoint_url: str
    capabilities: WorkerCapabilities
    current_operation_id: str | None
    last_seen: str
    failures: int


class WorkerRegistered(Worker):
    """The registration's answer: the worker's view, and the token its later calls carry."""

    token: str


class HeartbeatAnswer(_Body):
    ok: bool


class WorkerRemoved(_Body):
    removed: bool


class ModelSummary(_Body):
    id: str
    strategy: str
    timeframe: str
    version: int
    metadata: dict[str, Any]


class ModelDetail(ModelSummary):
    metrics: dict[str, Any]
