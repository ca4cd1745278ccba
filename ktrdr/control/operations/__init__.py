"""Operations (training and backtest jobs): persistence and state machine."""

from ktrdr.control.operations.store import (
    InvalidTransitionError,
    OperationNotFoundError,
    OperationRecord,
    OperationsStore,
)

__all__ = [
    "InvalidTransitionError",
    "OperationNotFoundError",
    "OperationRecord",
    "OperationsStore",
]
