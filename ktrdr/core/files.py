"""Atomic file writes: readers never see half a file, and every reader may read it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

# mkstemp creates 0600: a reader of another uid (a worker image, a backup) would miss the
# file silently. Files are the owner's to write and everyone's to read.
FILE_MODE = 0o644


def write_atomic(path: Path, text: str, *, durable: bool = False) -> None:
    """Write ``text`` to a hidden temp file beside ``path``, then rename it into place.

    ``durable`` also flushes it to disk first (for data that is not re-creatable).
    """
    write_bytes_atomic(path, text.encode("utf-8"), durable=durable)


def write_bytes_atomic(path: Path, data: bytes, *, durable: bool = False) -> None:
    """:func:`write_atomic` for bytes (a checkpoint, serialised weights)."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
