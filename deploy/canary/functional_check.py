"""Canary functional check against a running ktrdr deployment.

    KTRDR_API_URL=http://host:8000 python deploy/canary/functional_check.py

Checks, in order: backend health; at least one backtesting and one training worker;
a training runs to completion and produces a model; a backtest of that model
completes with metrics; a running training is cancelled. Prints one line per check
and a summary; exits non-zero on the first failure.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ktrdr.cli.api_client import ApiClient, ApiError

HERE = Path(__file__).parent
SMOKE = (HERE / "canary_smoke.yaml").read_text()
# Same strategy, but long enough to still be running when it is cancelled.
LONG = SMOKE.replace("name: canary_smoke", "name: canary_long").replace("epochs: 5", "epochs: 5000")
TIMEOUT_S = float(os.environ.get("KTRDR_CANARY_TIMEOUT_S", "600"))


class CheckFailedError(Exception):
    pass


def check(name: str, step: Callable[[], str], results: list[str]) -> None:
    started = time.monotonic()
    try:
        detail = step()
    except (ApiError, CheckFailedError, KeyError) as error:
        print(f"FAIL {name}: {error}", flush=True)
        raise CheckFailedError(name) from error
    results.append(name)
    print(f"ok   {name} ({time.monotonic() - started:.1f}s): {detail}", flush=True)


def run(client: ApiClient) -> list[str]:
    results: list[str] = []
    state: dict[str, Any] = {}

    def health() -> str:
        body = client.health()
        if body["status"] != "ok":
            raise CheckFailedError(
                f"backend status {body['status']} (database: {body['database']})"
            )
        return f"version {body['version']}, database {body['database']}"

    def workers() -> str:
        deadline = time.monotonic() + 60
        while True:
            counts = client.health()["workers"]
            if counts.get("backtesting", 0) >= 1 and counts.get("training", 0) >= 1:
                return f"{counts['backtesting']} backtesting, {counts['training']} training"
            if time.monotonic() > deadline:
                raise CheckFailedError(f"workers registered: {counts}")
            time.sleep(1)

    def training() -> str:
        client.upload_strategy("canary_smoke", SMOKE)
        started = client.start_training("canary_smoke")
        final = client.wait(started["operation_id"], timeout_s=TIMEOUT_S)
        if final["status"] != "completed":
            raise CheckFailedError(f"training {final['status']}: {final['error']}")
        state["model_id"] = final["result"]["model_id"]
        return f"model {state['model_id']} on {final['worker_id']}"

    def backtest() -> str:
        started = client.start_backtest("canary_smoke", model=state["model_id"])
        final = client.wait(started["operation_id"], timeout_s=TIMEOUT_S)
        if final["status"] != "completed":
            raise CheckFailedError(f"backtest {final['status']}: {final['error']}")
        metrics = final["result"]["metrics"]
        if "sharpe_ratio" not in metrics:
            raise CheckFailedError(f"no metrics in the result: {sorted(final['result'])}")
        return f"{metrics['num_trades']} trades, total return {metrics['total_return']:.2%}"

    def cancel() -> str:
        client.upload_strategy("canary_long", LONG)
        started = client.start_training("canary_long")
        operation_id = started["operation_id"]
        client.wait(
            operation_id,
            timeout_s=TIMEOUT_S,
            until=lambda s: s["status"] == "running" and s["progress"]["percent"] > 0,
        )
        client.cancel(operation_id)
        final = client.wait(operation_id, timeout_s=60)
        if final["status"] != "cancelled":
            raise CheckFailedError(f"cancelled training ended {final['status']}")
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
