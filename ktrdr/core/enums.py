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
    # Parents: a driver that creates training and backtest children and combines them.
    WALKFORWARD = "walkforward"
    SWEEP = "sweep"

    @property
    def is_parent(self) -> bool:
        return self in PARENT_TYPES


PARENT_TYPES: frozenset[OperationType] = frozenset({OperationType.WALKFORWARD, OperationType.SWEEP})


class WorkerType(StrEnum):
    """A worker runs the operations of its own kind.

    Training and backtest workers run the operation type of the same name; a research
    worker runs the drivers of parent operations (walk-forward, sweep), so a driver that
    spends its time waiting for children never occupies a training or backtest slot.
    """

    BACKTESTING = "backtesting"
    TRAINING = "training"
    RESEARCH = "research"

    @property
    def operation_types(self) -> frozenset[OperationType]:
        if self == WorkerType.RESEARCH:
            return PARENT_TYPES
        return frozenset({OperationType(self.value)})

    def runs(self, operation_type: OperationType) -> bool:
        return OperationType(operation_type) in self.operation_types


class WorkerStatus(StrEnum):
    IDLE = "idle"
    BUSY = "busy"
    STOPPING = "stopping"
