"""Telling whether a process of ``ktrdr up`` still runs, and stopping it."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from ktrdr.cli.processes import is_alive, stop

# Both read a zombie's state from /proc: elsewhere is_alive cannot tell one from a process.
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="zombies are read from /proc"
)


def _exited_unreaped() -> subprocess.Popen[bytes]:
    """A child that has exited but is not waited for yet: a zombie, as a process of
    ``ktrdr up`` is until init reaps it."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(f"/proc/{child.pid}/stat") as stat:
            if stat.read().rpartition(")")[2].split()[0] == "Z":
                return child
        time.sleep(0.01)
    raise AssertionError("the child never exited")


def test_an_exited_process_not_yet_reaped_is_not_alive() -> None:
    child = _exited_unreaped()
    try:
        assert not is_alive(child.pid)
    finally:
        child.wait()


def test_a_running_process_is_alive_until_stopped() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert is_alive(child.pid)
        started = time.monotonic()
        # Not reaped here while stop() waits: it must see the zombie as gone, not wait out
        # its grace and SIGKILL it.
        assert stop([child.pid], grace_s=20) == []
        assert time.monotonic() - started < 10
    finally:
        child.kill()
        child.wait()
    assert not is_alive(child.pid)
