"""Bounded waits on children: poll, report the parent's progress, honour cancellation."""

from __future__ import annotations

import time
from collections.abc import Callable

from ktrdr.core.progress import CancelToken, Progress, ProgressCallback

POLL_S = 0.5


def parent_progress(
    progress: ProgressCallback | None, finished: int, total: int, message: str
) -> None:
    """Parent progress = finished children / children it will have."""
    if progress is None:
        return
    percent = 100.0 * finished / total if total else 0.0
    progress(
        Progress(
            percent=min(99.0, percent),  # 100 only once the result is stored
            message=message,
            items_done=finished,
            items_total=total,
        )
    )


def pause(
    cancel: CancelToken, seconds: float = POLL_S, clock: Callable[[], float] = time.monotonic
) -> None:
    """Sleep ``seconds`` unless the parent is cancelled meanwhile (then raise)."""
    deadline = clock() + seconds
    while clock() < deadline:
        cancel.raise_if_cancelled()
        time.sleep(min(0.05, max(0.0, deadline - clock())))
    cancel.raise_if_cancelled()
