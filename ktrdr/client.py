"""A typed client of the backend's public API (the CLI, the canary check, agents).

Each method returns the response model the backend declares for the route
(:mod:`ktrdr.core.api_models`); an error answer raises :class:`ApiError` carrying the
backend's :class:`~ktrdr.core.api_models.Problem`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from ktrdr.core.api_models import (
    Bars,
    DateRange,
    Health,
    IndicatorSpecBody,
    ModelDetail,
    ModelSummary,
    Operation,
    OperationChildren,
    OperationPage,
    OperationResults,
    OperationStarted,
    OperationSummary,
    Problem,
    SeriesSummary,
    StrategyDetail,
    StrategySummary,
    StrategyValidation,
    Worker,
)
from ktrdr.core.errors import KtrdrError

T = TypeVar("T")


class ApiError(KtrdrError):
    """The backend answered with an error (``problem`` says what), or was not reachable."""

    code = "api_error"

    def __init__(self, message: str, *, status: int | None = None, problem: Problem | None = None):
        super().__init__(message, field=problem.field if problem else None)
        self.status = status
        self.problem = problem


class ApiClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=f"{self.base_url}/api/v1", headers=headers, timeout=timeout
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A successful answer; ApiError for an error or no answer."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ApiError(f"cannot reach the backend at {self.base_url}: {error}") from error
        if response.status_code >= 400:
            problem = _problem(response)
            raise ApiError(
                f"{method} {path}: HTTP {response.status_code}: {describe_problem(problem)}",
                status=response.status_code,
                problem=problem,
            )
        return response

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON of a successful answer; ApiError for an error or no answer."""
        return self.send(method, path, **kwargs).json()

    def _get(self, model: type[T], method: str, path: str, **kwargs: Any) -> T:
        data = self.request(method, path, **kwargs)
        try:
            return TypeAdapter(model).validate_python(data)
        except ValidationError as error:
            raise ApiError(f"{method} {path}: unexpected answer: {error}") from error

    def _start(self, path: str, strategy: str, params: dict[str, Any]) -> OperationStarted:
        """Queue an operation of ``strategy``; parameters left None take the backend's default."""
        body = {"strategy_name": strategy, **_given(params)}
        return self._get(OperationStarted, "POST", path, json=body)

    def health(self) -> Health:
        return self._get(Health, "GET", "/health")

    def start_training(self, strategy: str, **params: Any) -> OperationStarted:
        return self._start("/trainings/start", strategy, params)

    def start_backtest(self, strategy: str, **params: Any) -> OperationStarted:
        return self._start("/backtests/start", strategy, params)

    def start_walkforward(self, strategy: str, **params: Any) -> OperationStarted:
        return self._start("/walkforward/start", strategy, params)

    def start_sweep(self, strategy: str, **params: Any) -> OperationStarted:
        return self._start("/sweeps/start", strategy, params)

    def children(self, operation_id: str) -> OperationChildren:
        return self._get(OperationChildren, "GET", f"/operations/{_segment(operation_id)}/children")

    def operation(self, operation_id: str) -> Operation:
        return self._get(Operation, "GET", f"/operations/{operation_id}")

    def operations(self, **filters: Any) -> OperationPage:
        return self._get(OperationPage, "GET", "/operations", params=_given(filters))

    def cancel(self, operation_id: str) -> OperationSummary:
        return self._get(OperationSummary, "DELETE", f"/operations/{operation_id}")

    def results(self, operation_id: str) -> OperationResults:
        return self._get(OperationResults, "GET", f"/operations/{operation_id}/results")

    def workers(self, worker_type: str | None = None) -> list[Worker]:
        params = _given({"worker_type": worker_type})
        return self._get(list[Worker], "GET", "/workers", params=params)

    def symbols(self) -> list[SeriesSummary]:
        return self._get(list[SeriesSummary], "GET", "/data/symbols")

    def timeframes(self, symbol: str | None = None) -> list[str]:
        return self._get(list[str], "GET", "/data/timeframes", params=_given({"symbol": symbol}))

    def bars(self, symbol: str, timeframe: str, **filters: Any) -> Bars:
        """Bars of a series; ``start``, ``end`` (ISO-8601) and ``limit`` (the last N) filter."""
        path = f"/data/{_segment(symbol)}/{_segment(timeframe)}"
        return self._get(Bars, "GET", path, params=_given(filters))

    def date_range(self, symbol: str, timeframe: str) -> DateRange:
        path = f"/data/{_segment(symbol)}/{_segment(timeframe)}/range"
        return self._get(DateRange, "GET", path)

    def indicators(self) -> list[IndicatorSpecBody]:
        return self._get(list[IndicatorSpecBody], "GET", "/indicators")

    def strategies(self) -> list[StrategySummary]:
        return self._get(list[StrategySummary], "GET", "/strategies")

    def strategy(self, name: str) -> StrategyDetail:
        return self._get(StrategyDetail, "GET", f"/strategies/{_segment(name)}")

    def validate_strategy(self, text: str) -> StrategyValidation:
        return self._get(
            StrategyValidation,
            "POST",
            "/strategies/validate",
            content=text.encode(),
            headers={"Content-Type": "application/yaml"},
        )

    def models(self, strategy: str | None = None) -> list[ModelSummary]:
        params = _given({"strategy": strategy})
        return self._get(list[ModelSummary], "GET", "/models", params=params)

    def model(self, model_id: str) -> ModelDetail:
        """One stored model, e.g. ``rsi_macd_trend/1d_v2`` or ``rsi_macd_trend/1d_latest``."""
        strategy, _, version = model_id.partition("/")
        return self._get(ModelDetail, "GET", f"/models/{_segment(strategy)}/{_segment(version)}")

    def report(self, operation_id: str) -> str:
        """The operation's HTML report (errors come back as Problems, not as pages)."""
        accept = {"Accept": "text/html, application/problem+json"}
        return self.send("GET", f"/operations/{operation_id}/report", headers=accept).text

    def upload_strategy(self, name: str, text: str, replace: bool = True) -> StrategySummary:
        return self._get(
            StrategySummary,
            "PUT",
            f"/strategies/{name}",
            params={"replace": str(replace).lower()},
            content=text.encode(),
            headers={"Content-Type": "application/yaml"},
        )

    def wait(
        self,
        operation_id: str,
        on_update: Callable[[Operation], None] | None = None,
        poll_s: float = 0.5,
        timeout_s: float | None = None,
        until: Callable[[Operation], bool] | None = None,
    ) -> Operation:
        """Poll until the operation ends (or ``until`` holds); returns its last state."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            state = self.operation(operation_id)
            if on_update is not None:
                on_update(state)
            if state.is_terminal or (until is not None and until(state)):
                return state
            if deadline is not None and time.monotonic() > deadline:
                raise ApiError(f"operation {operation_id} still {state.status} after {timeout_s}s")
            time.sleep(poll_s)


def describe_problem(problem: Problem) -> str:
    """The problem on one line: what, then each issue with where it is."""
    if not problem.issues or (len(problem.issues) == 1 and not problem.issues[0].path):
        return problem.detail
    issues = "; ".join(f"{i.path}: {i.message}" if i.path else i.message for i in problem.issues)
    return f"{problem.detail}: {issues}"


def _problem(response: httpx.Response) -> Problem:
    try:
        return Problem.model_validate_json(response.content)
    except ValidationError:
        return Problem(detail=response.text[:500] or response.reason_phrase, code="http_error")


def _segment(value: str) -> str:
    """One path segment, percent-encoded: a name never adds or climbs path levels."""
    return quote(value, safe="")


def _given(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v.model_dump(mode="json") if isinstance(v, BaseModel) else v
        for k, v in values.items()
        if v is not None
    }
