"""A fake ``docker`` executable for the kinfra tests: records its calls, fails on demand."""

from __future__ import annotations

import json
import sys
from pathlib import Path

_FAKE_DOCKER = """#!{python}
# Fake docker: records each call (args, cwd) as one JSON line, answers like docker would.
import json, os, sys
args = sys.argv[1:]
with open({log!r}, "a") as log:
    log.write(json.dumps({{"args": args, "cwd": os.getcwd()}}) + "\\n")
fail = {fail!r}
if fail and args[:len(fail)] == fail:
    sys.stderr.write({message!r} + "\\n")
    sys.exit(1)
if args[:2] == ["compose", "version"]:
    print("Docker Compose version v2.99.0-fake")
elif "ps" in args:
    print("NAME                        STATUS")
    print("ktrdr-sandbox-fake-backend  Up 3 minutes (healthy)")
"""


class FakeDocker:
    """A docker executable that records its calls in a log file."""

    def __init__(self, path: Path, log: Path) -> None:
        self.path = path
        self.log = log

    def calls(self) -> list[dict[str, object]]:
        if not self.log.is_file():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def write_fake_docker(folder: Path, fail: list[str] | None = None, message: str = "") -> FakeDocker:
    """A fake docker in ``folder``; ``fail``: the argument prefix on which it exits 1."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "docker"
    log = folder / "calls.jsonl"
    path.write_text(
        _FAKE_DOCKER.format(python=sys.executable, log=str(log), fail=fail or [], message=message)
    )
    path.chmod(0o755)
    return FakeDocker(path, log)
