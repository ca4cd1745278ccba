"""The states and kinds every plane talks about, declared once."""

from __future__ import annotations

from enum import StrEnum


class OperationStatus(StrEnum):
    """pending -> running -> completed | failed | cancelled (see the operations store)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES: frozenset[OperationStatus] = frozenset(
    {OperationStatus.COMPLETED, OperationStatus.FAILED, OperationStatus.CANCELLED}
)
ACTIVE_STATUSES: frozenset[OperationStatus] = frozenset(
    {OperationStatus.PENDING, OperationStatus.RUNNING}
)


class OperationType(StrEnum):
    TRAINING = "training"
    BACKTESTING = "backtesting"


class WorkerType(StrEnum):
    """A worker runs the operations of its own type (same values as OperationType)."""

    BACKTESTING = "backtesting"
    TRAINING = "training"

    @property
    def operation_type(self) -> OperationType:
        return OperationType(self.value)


class WorkerStatus(StrEnum):
    IDLE = "idle"
    BUSY = "busy"
    STOPPING = "stopping"
