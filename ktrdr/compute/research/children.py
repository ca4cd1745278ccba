"""How a driver starts its children and reads them back, wherever they run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ktrdr.core.enums import OperationStatus, OperationType
from ktrdr.core.progress import Progress

# Looks at a running child's progress; True stops it (a pruned trial).
Watch = Callable[[Progress], bool]


@dataclass(frozen=True)
class ChildState:
    id: str
    status: OperationStatus
    result: dict[str, Any] | None = None
    error: str | None = None
    progress: Progress = field(default_factory=Progress)


class Children(Protocol):
    def start(
        self,
        key: str,
        op_type: OperationType,
        params: dict[str, Any],
        strategy_yaml: str | None = None,
        watch: Watch | None = None,
    ) -> str:
        """The child ``key`` (created, or the one already there); returns its id."""
        ...

    def state(self, child_id: str) -> ChildState: ...

    def stop(self, key: str, reason: str) -> None:
        """Cancel a running child (remote children: the driver polls ``watch`` itself)."""
        ...
