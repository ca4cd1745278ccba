"""Backend figures: API import time, idle RSS, and dispatch latency to a real worker.

    uv run --no-sync python benchmarks/backend_figures.py

Starts a throw-away stack (backend + one backtest worker + one training worker as real
processes), trains the canary strategy once, then times POST /backtests/start until the
operation reports ``running`` on its worker. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.stack import Stack, canary_strategy  # noqa: E402

RUNS = 20


def import_time_s() -> tuple[float, float]:
    """(wall seconds of `import ktrdr.api.main`, cumulative -X importtime seconds)."""
    code = (
        "import time; t = time.perf_counter(); import ktrdr.api.main; "
        "print(time.perf_counter() - t)"
    )
    walls = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout
        walls.append(float(out))
    trace = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import ktrdr.api.main"],
        check=True,
        capture_output=True,
        text=True,
    ).stderr.splitlines()
    total_us = next(int(line.split("|")[1]) for line in trace if line.endswith(" ktrdr.api.main"))
    return statistics.median(walls), total_us / 1e6


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    wall, traced = import_time_s()
    print(
        f"import ktrdr.api.main: {wall:.2f} s wall (median of 5), {traced:.2f} s by -X importtime"
    )
    with tempfile.TemporaryDirectory() as home:
        stack = Stack(home=Path(home))
        stack.start_backend()
        try:
            stack.start_worker("trainer", "training")
            stack.start_worker("backtester", "backtesting")
            stack.wait_for_workers(backtesting=1, training=1)
            time.sleep(3)
            backend_pid = stack.processes["backend"].pid
            print(
                f"backend RSS at idle: {rss_mb(backend_pid):.1f} MB "
                f"(backtest worker {rss_mb(stack.processes['backtester'].pid):.1f} MB)"
            )
            stack.put_strategy("canary_smoke", canary_strategy())
            op = stack.post("/trainings/start", {"strategy_name": "canary_smoke"})["operation_id"]
            model = stack.wait_status(op, "completed")["result"]["model_id"]
            latencies = []
            with httpx.Client(base_url=f"{stack.api_url}/api/v1", timeout=10) as client:
                for _ in range(RUNS):
                    started = time.perf_counter()
                    op = client.post(
                        "/backtests/start", json={"strategy_name": "canary_smoke", "model": model}
                    ).json()["operation_id"]
                    while client.get(f"/operations/{op}").json()["status"] == "pending":
                        time.sleep(0.002)
                    latencies.append(time.perf_counter() - started)
                    stack.wait_status(op, "completed")
            ms = sorted(1000 * x for x in latencies)
            print(
                f"POST /backtests/start -> running: median {statistics.median(ms):.0f} ms, "
                f"min {ms[0]:.0f} ms, max {ms[-1]:.0f} ms over {RUNS} runs"
            )
            print(f"backend RSS after {RUNS} backtests: {rss_mb(backend_pid):.1f} MB")
        finally:
            stack.stop_all()


if __name__ == "__main__":
    os.environ.setdefault("KTRDR_LOG_LEVEL", "WARNING")
    main()
