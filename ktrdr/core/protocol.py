"""Messages between the backend and its workers, and the typed parameters of each job.

Backend -> worker:   POST {worker}/operations           OperationDispatch   -> 202 | 409 busy
                     POST {worker}/operations/{id}/cancel                     -> 202 | 404
                     GET  {worker}/health               -> WorkerHealth
Worker -> backend:   POST /api/v1/workers/register      WorkerRegistration
                     POST /api/v1/workers/{id}/heartbeat WorkerHealth   -> 200 | 404 re-register
                     DELETE /api/v1/workers/{id}
                     POST /api/v1/operations/{id}/progress  ProgressReport
                     POST /api/v1/operations/{id}/finish    FinishReport

Every call carries ``X-Ktrdr-Worker-Secret`` when ``KTRDR_WORKER_SECRET`` is set.

Job parameters (:class:`TrainingParams`, :class:`BacktestParams`) are validated once, when
the API accepts a request; the worker receives them typed and uses them as they are.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from ktrdr.core.enums import OperationStatus, OperationType, WorkerStatus, WorkerType
from ktrdr.core.names import validate_symbol
from ktrdr.core.progress import Progress
from ktrdr.core.timeframes import TIMEFRAME_PATTERN, validate_timeframe

WORKER_SECRET_HEADER = "X-Ktrdr-Worker-Secret"
MAX_SYMBOLS = 50

Symbol = Annotated[str, Field(max_length=64), AfterValidator(validate_symbol)]
Timeframe = Annotated[str, Field(max_length=8), AfterValidator(validate_timeframe)]
# A stored model: "<strategy>/<timeframe>_v<N>", "<strategy>/<timeframe>_latest", a version
# of the strategy being backtested ("v3" or 3), or "latest". Never a path.
MODEL_REF = re.compile(
    rf"^(?:[A-Za-z][A-Za-z0-9_]{{0,63}}/{TIMEFRAME_PATTERN}_(?:v[1-9][0-9]{{0,8}}|latest)"
    r"|v?[1-9][0-9]{0,8}|latest)$"
)


def _version_as_ref(value: Any) -> Any:
    # A bare version number (3) means the strategy's version "v3".
    if isinstance(value, int) and not isinstance(value, bool):
        return f"v{value}"
    return value


ModelRef = Annotated[
    str, BeforeValidator(_version_as_ref), Field(max_length=140, pattern=MODEL_REF.pattern)
]
Fraction = Annotated[float, Field(allow_inf_nan=False)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrainingParams(_Message):
    """Options of a training; unset ones come from the strategy."""

    symbols: Annotated[list[Symbol], Field(min_length=1, max_length=MAX_SYMBOLS)] | None = None
    timeframes: Annotated[list[Timeframe], Field(min_length=1, max_length=10)] | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None


class BacktestParams(_Message):
    """Options of a backtest; without dates it runs on the model's test split."""

    model: ModelRef | None = None
    symbol: Symbol | None = None
    timeframe: Timeframe | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    initial_capital: Annotated[Fraction, Field(gt=0, le=1e15)] | None = None
    commission: Annotated[Fraction, Field(ge=0, lt=1)] | None = None
    slippage: Annotated[Fraction, Field(ge=0, lt=1)] | None = None
    position_size: Annotated[Fraction, Field(gt=0, le=1)] | None = None


JobParams = TrainingParams | BacktestParams
PARAMS_BY_TYPE: dict[OperationType, type[TrainingParams] | type[BacktestParams]] = {
    OperationType.TRAINING: TrainingParams,
    OperationType.BACKTESTING: BacktestParams,
}


class WorkerCapabilities(_Message):
    gpu: bool = False
    device: str = Field(default="cpu", max_length=200)
    torch_version: str | None = Field(default=None, max_length=64)
    cuda_version: str | None = Field(default=None, max_length=64)


WorkerId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]
OperationId = Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,64}$")]


class WorkerRegistration(_Message):
    worker_id: WorkerId
    worker_type: WorkerType
    endpoint_url: str = Field(pattern=r"^https?://", max_length=512)
    capabilities: WorkerCapabilities = Field(default_factory=WorkerCapabilities)
    # The operation the worker is running right now (after a backend restart).
    current_operation_id: OperationId | None = None


class WorkerHealth(_Message):
    worker_id: WorkerId
    worker_type: WorkerType
    status: WorkerStatus
    current_operation_id: OperationId | None = None


class OperationDispatch(_Message):
    operation_id: OperationId
    operation_type: OperationType
    strategy_yaml: str  # the strategy travels with the job: no baked-in copy needed
    params: JobParams

    @model_validator(mode="before")
    @classmethod
    def _params_of_its_type(cls, data: Any) -> Any:
        # The operation type says which parameters these are (both models accept {}).
        if isinstance(data, dict) and isinstance(data.get("params"), dict):
            kind = data.get("operation_type")
            if kind in PARAMS_BY_TYPE:
                params_model = PARAMS_BY_TYPE[OperationType(kind)]
                data = {**data, "params": params_model.model_validate(data["params"])}
        return data


class ProgressReport(_Message):
    worker_id: WorkerId
    progress: Progress


class FinishReport(_Message):
    worker_id: WorkerId
    status: OperationStatus
    result: dict[str, Any] | None = None
    error: str | None = Field(default=None, max_length=4000)

    @field_validator("status")
    @classmethod
    def _terminal(cls, status: OperationStatus) -> OperationStatus:
        if not status.is_terminal:
            raise ValueError(
                f"a finish report's status is completed, failed or cancelled, not {status}"
            )
        return status
