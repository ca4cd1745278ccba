"""What a driver runs with, and its bounded waits on children: poll, report the parent's
progress, honour cancellation."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ktrdr.compute.research.children import Children
from ktrdr.core.progress import CancelToken, Progress, ProgressCallback

POLL_S = 0.5


@dataclass(frozen=True)
class DriverContext:
    """A parent's driver context: its children, the parent's cancel token and progress
    callback, and how long it waits between polls of its children (0 in one process)."""

    children: Children
    cancel: CancelToken
    progress: ProgressCallback | None = None
    poll_s: float = POLL_S
    clock: Callable[[], float] = time.monotonic

    def report(self, finished: int, total: int, message: str) -> None:
        """Parent progress = finished children / children it will have."""
        if self.progress is None:
            return
        percent = 100.0 * finished / total if total else 0.0
        self.progress(
            Progress(
                percent=min(99.0, percent),  # 100 only once the result is stored
                message=message,
                items_done=finished,
                items_total=total,
            )
        )

    def pause(self) -> None:
        """Sleep ``poll_s`` unless the parent is cancelled meanwhile (then raise)."""
        deadline = self.clock() + self.poll_s
        while self.clock() < deadline:
            self.cancel.raise_if_cancelled()
            time.sleep(min(0.05, max(0.0, deadline - self.clock())))
        self.cancel.raise_if_cancelled()
