"""Progress and cooperative cancellation: one progress model from the job to the API.

The compute code reports a :class:`Progress`, the worker posts it to the backend inside a
``ProgressReport``, the operations store keeps it and the API serves it, all as this one
model. Plain Python and pydantic: the CLI, the workers and the compute code all use it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_PROGRESS_MESSAGE = 500


class Progress(BaseModel):
    """How far an operation is: percent done, what it does now, and items done of total."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    percent: float = Field(default=0.0, ge=0, le=100)
    message: str = Field(default="", max_length=MAX_PROGRESS_MESSAGE)
    items_done: int = Field(default=0, ge=0)
    items_total: int = Field(default=0, ge=0)
    details: dict[str, Any] = Field(default_factory=dict)

    def merged_into(self, current: Progress) -> Progress:
        """This report over ``current``: percent never goes down (reports can cross)."""
        return self.model_copy(update={"percent": max(self.percent, current.percent)})


ProgressCallback = Callable[[Progress], None]


class OperationCancelledError(Exception):
    """Raised inside a long computation once its cancel token is set."""


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def cancel(self, reason: str = "cancelled") -> None:
        self.reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise OperationCancelledError(self.reason or "cancelled")
