"""`make help` lists every target the Makefile defines (the README points people at it)."""

from __future__ import annotations

import re
import subprocess

from tests.support.paths import REPO_ROOT


def test_make_help_lists_every_target() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, flags=re.MULTILINE))
    assert {"setup", "test", "test-unit", "quality", "demo"} <= targets
    shown = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    listed = {line.split()[0] for line in shown.splitlines() if line.strip()}
    assert listed == targets
