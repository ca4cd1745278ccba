"""Messages between the backend and its workers, and the typed parameters of each job.

Backend -> worker:   POST {worker}/operations           OperationDispatch   -> 202 | 409 busy
                     POST {worker}/operations/{id}/cancel                     -> 202 | 404
                     GET  {worker}/health               -> WorkerHealth
Worker -> backend:   POST /api/v1/workers/register      WorkerRegistration
                     POST /api/v1/workers/{id}/heartbeat WorkerHealth   -> 200 | 404 re-register
                     DELETE /api/v1/workers/{id}
                     POST /api/v1/operations/{id}/progress  ProgressReport
                     POST /api/v1/operations/{id}/finish    FinishReport

Every call carries ``X-Ktrdr-Worker-Secret`` when ``KTRDR_WORKER_SECRET`` is set. The
registration answers with a token of that worker alone (``WorkerRegistered.token``); every
later call of the worker carries it in ``X-Ktrdr-Worker-Token``, so no one holding the
shared secret can speak for a registered worker. Each dispatch carries an attempt token;
progress and finish reports carry it back and count only while it is the operation's
current one (a worker that froze and woke up is refused: 409, and stops).

A driver (research worker) also calls, with its token and its parent's attempt:
                     POST /api/v1/operations/{id}/children          ChildRequest
                     POST /api/v1/operations/{id}/children/{key}/cancel  ChildCancel

Job parameters (:class:`TrainingParams`, :class:`BacktestParams`, ...) are validated once, when
the API accepts a request; the worker receives them typed and uses them as they are.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

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
WORKER_TOKEN_HEADER = "X-Ktrdr-Worker-Token"
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
    """Options of a backtest; without dates it runs on the model's test split.

    ``symbol`` backtests that one symbol, ``symbols`` each of those; neither: each symbol
    the model was trained on (several give per-symbol results and their combination).
    """

    model: ModelRef | None = None
    symbol: Symbol | None = None
    symbols: Annotated[list[Symbol], Field(min_length=1, max_length=MAX_SYMBOLS)] | None = None
    timeframe: Timeframe | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    initial_capital: Annotated[Fraction, Field(gt=0, le=1e15)] | None = None
    commission: Annotated[Fraction, Field(ge=0, lt=1)] | None = None
    slippage: Annotated[Fraction, Field(ge=0, lt=1)] | None = None
    position_size: Annotated[Fraction, Field(gt=0, le=1)] | None = None

    @model_validator(mode="after")
    def _one_way_to_name_symbols(self) -> BacktestParams:
        if self.symbol is not None and self.symbols is not None:
            raise ValueError("give symbol or symbols, not both")
        return self


# What one parent operation may spend: children are bounded by these (see the drivers).
MAX_FOLDS = 20
MAX_TRIALS = 200
MAX_PARALLEL = 8
MAX_SPACE_PARAMS = 50
MIN_WINDOW_BARS = 20
MAX_WINDOW_BARS = 10_000_000
# Backtest metrics a sweep can optimise, and whether more is better.
SWEEP_OBJECTIVES: dict[str, Literal["maximize", "minimize"]] = {
    "sharpe_ratio": "maximize",
    "sortino_ratio": "maximize",
    "calmar_ratio": "maximize",
    "total_return": "maximize",
    "annualized_return": "maximize",
    "excess_return": "maximize",
    "win_rate": "maximize",
    "profit_factor": "maximize",
    "max_drawdown": "minimize",
}
WindowBars = Annotated[int, Field(ge=MIN_WINDOW_BARS, le=MAX_WINDOW_BARS)]


class WalkForwardParams(_Message):
    """Folds by count (``folds``) or by lengths (``train_bars`` + ``test_bars``).

    rolling: each fold trains on the ``train_bars`` before its test window; anchored: on
    everything from the first bar. With lengths, ``folds`` keeps the last that many.
    """

    folds: Annotated[int, Field(ge=1, le=MAX_FOLDS)] | None = None
    train_bars: WindowBars | None = None
    test_bars: WindowBars | None = None
    mode: Literal["rolling", "anchored"] = "rolling"
    symbol: Symbol | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    max_parallel: Annotated[int, Field(ge=1, le=MAX_PARALLEL)] = 4

    @model_validator(mode="after")
    def _fold_shape(self) -> WalkForwardParams:
        if (self.train_bars is None) != (self.test_bars is None):
            raise ValueError("give train_bars and test_bars together")
        if self.folds is None and self.train_bars is None:
            raise ValueError("give folds, or train_bars and test_bars")
        if self.start_date and self.end_date and self.start_date >= self.end_date:
            raise ValueError("start_date must be before end_date")
        return self


class SweepParams(_Message):
    """A search over strategy fields (``space``: YAML path -> range or choices)."""

    space: Annotated[dict[str, dict[str, Any]], Field(min_length=1, max_length=MAX_SPACE_PARAMS)]
    trials: Annotated[int, Field(ge=1, le=MAX_TRIALS)] = 20
    objective: str = "sharpe_ratio"
    parallel: Annotated[int, Field(ge=1, le=MAX_PARALLEL)] = 2
    sampler: Literal["tpe", "random"] = "tpe"
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None
    pruning: bool = True
    # Continue the study of an earlier sweep (its operation id) instead of a new one.
    resume: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")] | None = None

    @field_validator("objective")
    @classmethod
    def _known_objective(cls, value: str) -> str:
        if value not in SWEEP_OBJECTIVES:
            raise ValueError(
                f"unknown objective {value[:40]!r}: use one of " + ", ".join(SWEEP_OBJECTIVES)
            )
        return value


AnyParams = TrainingParams | BacktestParams | WalkForwardParams | SweepParams
JobParams = AnyParams
PARAMS_BY_TYPE: dict[OperationType, type[AnyParams]] = {
    OperationType.TRAINING: TrainingParams,
    OperationType.BACKTESTING: BacktestParams,
    OperationType.WALKFORWARD: WalkForwardParams,
    OperationType.SWEEP: SweepParams,
}
CHILD_TYPES = (OperationType.TRAINING, OperationType.BACKTESTING)
ChildKey = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class WorkerCapabilities(_Message):
    gpu: bool = False
    device: str = Field(default="cpu", max_length=200)
    torch_version: str | None = Field(default=None, max_length=64)
    cuda_version: str | None = Field(default=None, max_length=64)


WorkerId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]
OperationId = Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,64}$")]
# A worker process's own random id: a restarted worker has a new one.
InstanceId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
AttemptToken = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


def check_endpoint_url(url: str) -> str:
    """``http(s)://host[:port]`` and nothing else: no user, path, query or fragment.

    The backend calls this URL with the worker secret attached, so it must name a
    worker's own endpoints and nothing that a crafted path or query would redirect.
    Returns it without a trailing slash.
    """
    if not url.isascii() or not url.isprintable() or any(c.isspace() for c in url):
        raise ValueError("must be printable ASCII without spaces")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise ValueError("must start with http:// or https://")
    if parts.username or parts.password or "@" in parts.netloc:
        raise ValueError("must not carry a user or password")
    if parts.path not in {"", "/"} or parts.query or parts.fragment or "?" in url or "#" in url:
        raise ValueError("must be http(s)://host[:port] with no path, query or fragment")
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    if not _is_host(host):
        raise ValueError(f"host {host[:60]!r} is not a hostname or an IP address")
    return f"{parts.scheme}://{parts.netloc}"


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.split(".")
    return 0 < len(host) <= 253 and all(
        0 < len(label) <= 63 and label[0] != "-" and all(c.isalnum() or c == "-" for c in label)
        for label in labels
    )


class WorkerRegistration(_Message):
    worker_id: WorkerId
    worker_type: WorkerType
    endpoint_url: Annotated[str, Field(max_length=300), AfterValidator(check_endpoint_url)]
    instance_id: InstanceId
    capabilities: WorkerCapabilities = Field(default_factory=WorkerCapabilities)
    # The operation the worker is running right now (after a backend restart), with the
    # attempt it runs, so that a new backend keeps accepting its reports.
    current_operation_id: OperationId | None = None


class WorkerHealth(_Message):
    worker_id: WorkerId
    worker_type: WorkerType
    status: WorkerStatus
    instance_id: InstanceId
    current_operation_id: OperationId | None = None
    # The last operation this worker accepted: the backend tells by it a report made before
    # a dispatch now in flight (or just accepted) from one made after. None: not known.
    last_accepted_id: OperationId | None = None


class OperationDispatch(_Message):
    operation_id: OperationId
    operation_type: OperationType
    attempt: AttemptToken
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


class ChildRequest(_Message):
    """A driver asks for a child of its parent operation (worker-authenticated, fenced).

    ``key`` names the child within its parent (``fold-3-train``): asking again with the
    same key answers the child already there, so a re-queued driver creates no duplicates.
    Without ``strategy_yaml`` the child runs the parent's strategy.
    """

    worker_id: WorkerId
    attempt: AttemptToken
    key: ChildKey
    type: OperationType
    params: dict[str, Any] = Field(default_factory=dict)
    strategy_yaml: str | None = Field(default=None, max_length=256 * 1024)

    @field_validator("type")
    @classmethod
    def _child_type(cls, value: OperationType) -> OperationType:
        if value not in CHILD_TYPES:
            raise ValueError("a child is a training or a backtesting")
        return value


class ChildCancel(_Message):
    worker_id: WorkerId
    attempt: AttemptToken
    reason: str = Field(default="cancelled by its driver", max_length=300)


class ProgressReport(_Message):
    worker_id: WorkerId
    attempt: AttemptToken
    progress: Progress


class FinishReport(_Message):
    worker_id: WorkerId
    attempt: AttemptToken
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
