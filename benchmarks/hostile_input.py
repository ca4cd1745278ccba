"""What hostile or unlucky requests cost a live backend: memory, time, and its other answers.

Against one backend process on 127.0.0.1 (SQLite), each bounded in size and time:
- a 300 MB body (streamed) to a JSON route: the answer, and the backend's RSS before/after;
- a YAML alias bomb to ``POST /strategies/validate``: time and answer size;
- 50,000 nested brackets to the same route;
- a valid 45 MB CSV upload (about 1.1 M rows) while ``/health`` is polled: the upload's
  time and the worst ``/health`` latency meanwhile;
- ``GET /data/<that series>?limit=1`` and a one-month window of it.

    uv run --no-sync python benchmarks/hostile_input.py
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.hostile import alias_bomb
from tests.support.stack import Stack

MB = 1024 * 1024


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def huge_body(total: int) -> Iterator[bytes]:
    chunk = b"x" * MB
    for _ in range(total // MB):
        yield chunk


def big_csv(rows: int) -> str:
    start = datetime(2000, 1, 3, tzinfo=UTC)
    out = ["timestamp,open,high,low,close,volume"]
    for index in range(rows):
        when = (start + timedelta(minutes=index)).strftime("%Y-%m-%dT%H:%M:%SZ")
        price = 100 + (index % 1000) / 100
        out.append(f"{when},{price},{price + 1},{price - 1},{price + 0.5},{1000 + index % 97}")
    return "\n".join(out) + "\n"


def main() -> int:
    stack = Stack(home=Path(tempfile.mkdtemp(prefix="ktrdr-hostile-")))
    stack.start_backend()
    api = f"{stack.api_url}/api/v1"
    pid = stack.processes["backend"].pid
    try:
        with httpx.Client(timeout=120) as client:
            client.get(f"{api}/health")
            before = rss_mb(pid)
            started = time.perf_counter()
            answer = client.post(
                f"{api}/trainings/start",
                content=huge_body(300 * MB),
                headers={"content-type": "application/json"},
            )
            took = time.perf_counter() - started
            print(
                f"300 MB body: HTTP {answer.status_code} in {took:.2f} s; backend RSS "
                f"{before:.0f} MB before, {rss_mb(pid):.0f} MB after"
            )

            started = time.perf_counter()
            answer = client.post(f"{api}/strategies/validate", content=alias_bomb())
            print(
                f"alias bomb ({len(alias_bomb())} bytes): HTTP {answer.status_code} in "
                f"{time.perf_counter() - started:.3f} s, {len(answer.content)} bytes: "
                f"{answer.json()['issues'][0]['message']}"
            )
            started = time.perf_counter()
            deep = "a: " + "[" * 50_000 + "]" * 50_000
            answer = client.post(f"{api}/strategies/validate", content=deep)
            print(
                f"50,000 nested brackets: HTTP {answer.status_code} in "
                f"{time.perf_counter() - started:.2f} s: {answer.json()['issues'][0]['message']}"
            )

            text = big_csv(900_000)  # about 47 MB: under the default 50 MiB upload limit
            worst = [0.0]
            stop = threading.Event()

            def watch_health() -> None:
                with httpx.Client(timeout=60) as probe:
                    while not stop.is_set():
                        at = time.perf_counter()
                        probe.get(f"{api}/health")
                        worst[0] = max(worst[0], time.perf_counter() - at)
                        time.sleep(0.05)

            watcher = threading.Thread(target=watch_health)
            watcher.start()
            started = time.perf_counter()
            answer = client.post(f"{api}/data/BIG/1m", content=text.encode())
            upload_s = time.perf_counter() - started
            stop.set()
            watcher.join()
            print(
                f"{len(text) / MB:.0f} MB CSV upload ({answer.json().get('bars')} bars): "
                f"HTTP {answer.status_code} in {upload_s:.1f} s; worst /health meanwhile "
                f"{worst[0] * 1000:.0f} ms"
            )
            for label, params in (
                ("limit=1", {"limit": 1}),
                ("one month", {"start": "2001-01-01", "end": "2001-01-31", "limit": 100_000}),
            ):
                started = time.perf_counter()
                answer = client.get(f"{api}/data/BIG/1m", params=params)
                ms = (time.perf_counter() - started) * 1000
                print(
                    f"GET /data/BIG/1m {label}: HTTP {answer.status_code}, "
                    f"{answer.json().get('count')} bars in {ms:.0f} ms"
                )
    finally:
        stack.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
