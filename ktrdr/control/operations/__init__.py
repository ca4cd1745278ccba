"""Operations (training and backtest jobs): persistence and state machine."""

from ktrdr.control.operations.store import (
    InvalidTransitionError,
    OperationNotFoundError,
    OperationsStore,
)
from ktrdr.core.api_models import Operation

__all__ = [
    "InvalidTransitionError",
    "Operation",
    "OperationNotFoundError",
    "OperationsStore",
]
