"""Write an HTML report to a file the user named, and open it when asked."""

from __future__ import annotations

import os
import tempfile
import webbrowser
from pathlib import Path
from typing import Any

from ktrdr.cli.output import error_console
from ktrdr.core.enums import OperationType
from ktrdr.core.errors import InvalidInputError
from ktrdr.reports import render_report


def write_report(path: Path, html: str, open_it: bool = False) -> Path:
    """Atomically: a reader never sees half a report, a failure leaves no file."""
    target = path.expanduser()
    if target.is_dir():
        raise InvalidInputError(f"{path} is a directory; give a file name", field="--report")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(html)
        os.replace(temporary, target)
    except OSError as error:
        raise InvalidInputError(f"cannot write {path}: {error.strerror}") from None
    size = target.stat().st_size
    error_console.print(f"report written to {target} ({size / 1024:,.0f} KiB)")
    if open_it:
        webbrowser.open(target.resolve().as_uri())
    return target


def write_local_report(path: Path, kind: OperationType, result: dict[str, Any]) -> Path:
    """The report of a result computed in this process (``--local``)."""
    return write_report(path, render_report(kind, result))
