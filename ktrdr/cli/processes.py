"""Start the backend and workers as processes, and stop them again.

The processes run the same modules as the images: ``python -m ktrdr.api`` and
``python -m ktrdr.workers <type>``, configured through their environment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ktrdr.core.enums import WorkerType

BACKEND_MODULE = "ktrdr.api"
WORKER_MODULE = "ktrdr.workers"
MCP_MODULE = "ktrdr.mcp"


def backend_command() -> list[str]:
    return [sys.executable, "-m", BACKEND_MODULE]


def worker_command(worker_type: WorkerType) -> list[str]:
    return [sys.executable, "-m", WORKER_MODULE, WorkerType(worker_type).value]


def mcp_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", MCP_MODULE, *arguments]


def spawn(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start a detached process (own session) writing to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def is_alive(pid: int) -> bool:
    """Whether ``pid`` still runs. A zombie has exited: ``ktrdr up`` is gone, so only init
    can reap its processes, and some inits (a container's, a sandbox's) do that seconds
    later; counting it as alive made ``ktrdr down`` wait those seconds for every process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no procfs (macOS), or it just went
        return False
    # "pid (comm) state ...": comm may hold spaces and parentheses, the state follows the last ")".
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def stop(pids: list[int], grace_s: float) -> list[int]:
    """SIGTERM, wait up to ``grace_s``, then SIGKILL; returns the pids that needed a kill."""
    for pid in pids:
        if is_alive(pid):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(is_alive(pid) for pid in pids):
        time.sleep(0.1)
    killed = [pid for pid in pids if is_alive(pid)]
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    return killed
