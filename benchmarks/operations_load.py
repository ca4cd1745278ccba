"""Polling load on a live backend: requests/s and latency while backtests run.

One backend (SQLite), one training worker (to make the model) and two backtest workers,
as processes on 127.0.0.1. A second process starts polling ``GET /operations?limit=50``
and ``GET /operations/{id}`` (ids taken from the lists it reads) from several threads,
then 200 backtests are queued; polling goes on until every backtest has ended and at
least ``--min-seconds`` have passed (bounded: at most ``--max-seconds`` and
``--max-requests``).
Prints requests/s, p50/p95/p99 latency per route, the backend's CPU time per request, failed
requests, and whether every operation completed exactly once (one completion each, no
retry, one finish accepted).
The workers run with KTRDR_WORKER_NICENESS=10 unless it is set (the backend shares this
host's two cores with them).

    uv run --no-sync python benchmarks/operations_load.py [--backtests 200] [--threads 8]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.stack import Stack, canary_strategy


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def poll(
    api_url: str,
    threads: int,
    min_seconds: float,
    max_seconds: float,
    max_requests: int,
    queued: Any,
    out: Any,
) -> None:
    """In its own process: hammer the two read routes until every operation has ended.

    ``queued`` is set by the parent once all backtests are queued; before that an empty
    queue does not mean the work is over.
    """
    latencies: dict[str, list[float]] = {"list": [], "get": []}
    errors: list[str] = []
    done = threading.Event()
    lock = threading.Lock()
    count = [0]
    seen_ids: list[str] = []
    start = time.monotonic()
    deadline = start + max_seconds

    def loop(index: int) -> None:
        with httpx.Client(base_url=f"{api_url}/api/v1", timeout=10) as client:
            turn = index
            while not done.is_set() and time.monotonic() < deadline:
                with lock:
                    if count[0] >= max_requests:
                        return
                    count[0] += 1
                turn += 1
                kind = "get" if turn % 2 and seen_ids else "list"
                path = (
                    "/operations?limit=50"
                    if kind == "list"
                    else f"/operations/{seen_ids[turn % len(seen_ids)]}"
                )
                started = time.perf_counter()
                try:
                    response = client.get(path)
                    response.raise_for_status()
                except httpx.HTTPError as error:
                    errors.append(f"{kind}: {error}")
                    continue
                latencies[kind].append(time.perf_counter() - started)
                if kind == "list":
                    ids = [item["id"] for item in response.json()["operations"]]
                    with lock:
                        seen_ids[:] = ids or seen_ids

    def watch() -> None:
        with httpx.Client(base_url=f"{api_url}/api/v1", timeout=10) as client:
            while time.monotonic() < deadline:
                counts = client.get("/health").json()["operations"]
                idle = counts["pending"] == 0 and counts["running"] == 0
                if idle and queued.is_set() and time.monotonic() - start >= min_seconds:
                    break
                time.sleep(0.5)
        done.set()

    started = time.monotonic()
    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    watcher = threading.Thread(target=watch)
    for thread in [*workers, watcher]:
        thread.start()
    for thread in [*workers, watcher]:
        thread.join()
    elapsed = time.monotonic() - started
    out.put({"latencies": latencies, "errors": errors, "elapsed": elapsed})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backtests", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--min-seconds", type=float, default=20)
    parser.add_argument("--max-seconds", type=float, default=300)
    parser.add_argument("--max-requests", type=int, default=200_000)
    args = parser.parse_args()

    stack = Stack(
        home=Path(tempfile.mkdtemp(prefix="ktrdr-load-")),
        env_overrides={
            "KTRDR_LOG_LEVEL": "WARNING",
            "KTRDR_TORCH_THREADS": "1",
            # The backend shares this host with the workers: it answers first.
            "KTRDR_WORKER_NICENESS": os.environ.get("KTRDR_WORKER_NICENESS", "10"),
        },
    )
    stack.start_backend()
    try:
        stack.start_worker("trainer", "training")
        stack.wait_for_workers(training=1)
        stack.put_strategy("canary_smoke", canary_strategy())
        trained = stack.post("/trainings/start", {"strategy_name": "canary_smoke"})
        model = stack.wait_status(trained["operation_id"], "completed", "failed")["result"]
        stack.stop("trainer")
        for name in ("bt-1", "bt-2"):
            stack.start_worker(name, "backtesting")
        stack.wait_for_workers(backtesting=2)
        results: multiprocessing.Queue[dict[str, Any]] = multiprocessing.Queue()
        queued = multiprocessing.Event()
        poller = multiprocessing.Process(
            target=poll,
            args=(
                stack.api_url,
                args.threads,
                args.min_seconds,
                args.max_seconds,
                args.max_requests,
                queued,
                results,
            ),
        )
        backend_cpu_before = _cpu_seconds(stack.processes["backend"].pid)
        poller.start()
        time.sleep(1)  # polling is under way before the first start
        op_ids = [
            stack.post(
                "/backtests/start", {"strategy_name": "canary_smoke", "model": model["model_id"]}
            )["operation_id"]
            for _ in range(args.backtests)
        ]
        queued.set()
        figures = results.get(timeout=args.max_seconds + 60)
        backend_cpu = _cpu_seconds(stack.processes["backend"].pid) - backend_cpu_before
        poller.join(30)
        finals = [stack.operation(op_id) for op_id in op_ids]
        finishes = _accepted_backtest_finishes(stack.api_url)
    finally:
        stack.stop_all()
    latencies = figures["latencies"]
    total = sum(len(v) for v in latencies.values())
    print(f"backtests: {args.backtests}, polling threads: {args.threads}")
    print(f"requests: {total} in {figures['elapsed']:.1f} s = {total / figures['elapsed']:.0f}/s")
    for kind, values in latencies.items():
        p50, p95, p99 = (1000 * percentile(values, q) for q in (0.5, 0.95, 0.99))
        print(
            f"  {kind:<5} n={len(values):<6} p50={p50:.1f} ms p95={p95:.1f} ms "
            f"p99={p99:.1f} ms max={1000 * max(values, default=0):.1f} ms"
        )
    print(
        f"backend CPU: {backend_cpu:.1f} s, {1000 * backend_cpu / max(total, 1):.2f} ms a request "
        "(dispatching and recording the backtests included)"
    )
    print(f"failed requests: {len(figures['errors'])}")
    for error in figures["errors"][:5]:
        print(f"  {error}")
    completed = [f for f in finals if f["status"] == "completed"]
    retried = [f for f in finals if f["attempts"]]
    print(
        f"operations: {len(completed)}/{len(finals)} completed, {len(retried)} retried, "
        f"{finishes} finish reports delivered (exactly once: {finishes == len(finals)})"
    )
    for final in [f for f in finals if f["status"] != "completed"][:5]:
        print(f"  not completed: {final['id']} {final['status']} {final.get('error')}")
    summary = {
        "requests_per_s": total / figures["elapsed"],
        "p99_ms": 1000 * percentile([x for v in latencies.values() for x in v], 0.99),
        "exactly_once": len(completed) == len(finals) and not retried and finishes == len(finals),
    }
    print(json.dumps(summary))
    return 0 if summary["exactly_once"] and not figures["errors"] else 1


def _cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _accepted_backtest_finishes(api_url: str) -> int:
    """The backend's own count of accepted completed-backtest finish reports."""
    metric = 'ktrdr_operations_finished_total{status="completed",type="backtesting"}'
    for line in httpx.get(f"{api_url}/metrics").text.splitlines():
        if line.startswith(metric):
            return int(float(line.split()[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
