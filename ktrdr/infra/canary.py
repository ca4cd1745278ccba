"""Canary functional check against a running ktrdr deployment.

    KTRDR_API_URL=http://host:8000 python -m ktrdr.infra.canary

Checks, in order: backend health; at least one backtesting and one training worker;
a training runs to completion and produces a model; a backtest of that model
completes with metrics; a running training is cancelled. Prints one line per check
and a summary; exits non-zero on the first failure.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from importlib.resources import files
from typing import Any

from ktrdr.client import ApiClient, ApiError
from ktrdr.core.enums import OperationStatus, WorkerType

SMOKE = files("ktrdr.infra").joinpath("canary_smoke.yaml").read_text(encoding="utf-8")
# Same strategy, but long enough to still be running when it is cancelled.
LONG = SMOKE.replace("name: canary_smoke", "name: canary_long").replace("epochs: 5", "epochs: 5000")
TIMEOUT_S = float(os.environ.get("KTRDR_CANARY_TIMEOUT_S", "600"))


class CheckFailedError(Exception):
    pass


# The research worker (drivers of walk-forwards and sweeps) is optional: environments that
# run no walk-forward or sweep have none.
REQUIRED_WORKERS = (WorkerType.BACKTESTING, WorkerType.TRAINING)


def required_workers_registered(counts: Mapping[WorkerType, int]) -> bool:
    """At least one backtest and one training worker among ``counts`` (type -> workers)."""
    return all(counts.get(kind, 0) >= 1 for kind in REQUIRED_WORKERS)


def check(name: str, step: Callable[[], str], results: list[str]) -> None:
    started = time.monotonic()
    try:
        detail = step()
    except (ApiError, CheckFailedError) as error:
        print(f"FAIL {name}: {error}", flush=True)
        raise CheckFailedError(name) from error
    results.append(name)
    print(f"ok   {name} ({time.monotonic() - started:.1f}s): {detail}", flush=True)


def run(client: ApiClient) -> list[str]:
    results: list[str] = []
    state: dict[str, Any] = {}

    def health() -> str:
        body = client.health()
        if body.status != "ok":
            raise CheckFailedError(f"backend status {body.status} (database: {body.database})")
        return f"version {body.version}, database {body.database}"

    def workers() -> str:
        deadline = time.monotonic() + 60
        while True:
            counts = client.health().workers
            if required_workers_registered(counts):
                backtesting, training = counts[WorkerType.BACKTESTING], counts[WorkerType.TRAINING]
                return f"{backtesting} backtesting, {training} training"
            if time.monotonic() > deadline:
                raise CheckFailedError(f"workers registered: {counts}")
            time.sleep(1)

    def completed(operation_id: str, what: str) -> dict[str, Any]:
        final = client.wait(operation_id, timeout_s=TIMEOUT_S)
        if final.status != OperationStatus.COMPLETED or final.result is None:
            raise CheckFailedError(f"{what} {final.status}: {final.error}")
        state["worker"] = final.worker_id
        return final.result

    def training() -> str:
        client.upload_strategy("canary_smoke", SMOKE)
        result = completed(client.start_training("canary_smoke").operation_id, "training")
        state["model_id"] = result["model_id"]
        return f"model {state['model_id']} on {state['worker']}"

    def backtest() -> str:
        started = client.start_backtest("canary_smoke", model=state["model_id"])
        result = completed(started.operation_id, "backtest")
        metrics = result.get("metrics", {})
        if "sharpe_ratio" not in metrics:
            raise CheckFailedError(f"no metrics in the result: {sorted(result)}")
        return f"{metrics['num_trades']} trades, total return {metrics['total_return']:.2%}"

    def cancel() -> str:
        client.upload_strategy("canary_long", LONG)
        operation_id = client.start_training("canary_long").operation_id
        client.wait(
            operation_id,
            timeout_s=TIMEOUT_S,
            until=lambda s: s.status == OperationStatus.RUNNING and s.progress.percent > 0,
        )
        client.cancel(operation_id)
        final = client.wait(operation_id, timeout_s=60)
        if final.status != OperationStatus.CANCELLED:
            raise CheckFailedError(f"cancelled training ended {final.status}")
        return f"operation {operation_id[:8]} cancelled while running"

    for name, step in (
        ("backend health", health),
        ("workers registered", workers),
        ("training completes", training),
        ("backtest completes", backtest),
        ("running training cancels", cancel),
    ):
        check(name, step, results)
    return results


def main() -> int:
    url = os.environ.get("KTRDR_API_URL", "http://127.0.0.1:8000")
    started = time.monotonic()
    with ApiClient(url, os.environ.get("KTRDR_API_TOKEN")) as client:
        try:
            passed = run(client)
        except CheckFailedError as failed:
            print(f"canary FAILED at '{failed}' against {url}", flush=True)
            return 1
    print(
        f"canary passed: {len(passed)}/{len(passed)} checks against {url} "
        f"in {time.monotonic() - started:.1f}s",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
