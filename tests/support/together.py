"""Start several Python processes and release them at one moment, once all are ready."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.support.paths import REPO_ROOT


def run_together(
    statement: str, processes: int, work_dir: Path, timeout_s: float = 60
) -> list[subprocess.CompletedProcess[str]]:
    """Run ``statement`` (``upgrade_to_head`` is imported) in ``processes`` processes at once.

    Each child writes a ready file once its imports are done, then waits for a go file;
    the go file is created only when every child is ready, so their work really overlaps.
    """
    go = work_dir / "go"
    children = []
    for index in range(processes):
        ready = work_dir / f"ready-{index}"
        code = textwrap.dedent(
            f"""
            import pathlib, time
            from ktrdr.control.db.migrate import upgrade_to_head
            pathlib.Path({str(ready)!r}).touch()
            go = pathlib.Path({str(go)!r})
            while not go.exists():
                time.sleep(0.002)
            {statement}
            """
        )
        children.append(
            (
                ready,
                subprocess.Popen(
                    [sys.executable, "-c", code],
                    cwd=REPO_ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    deadline = time.monotonic() + timeout_s
    while not all(ready.exists() for ready, _ in children):
        if time.monotonic() > deadline or any(p.poll() is not None for _, p in children):
            break  # a child died before it was ready: its output says why
        time.sleep(0.01)
    go.touch()
    results = []
    for _, process in children:
        stdout, stderr = process.communicate(timeout=timeout_s)
        results.append(
            subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        )
    return results
