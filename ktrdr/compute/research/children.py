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


@dataclass(frozen=True)
class ChildSpec:
    """A child to start: its name within the parent (``fold-2-train``), what it runs, and
    its strategy when that is not the parent's own (a sweep trial's)."""

    key: str
    type: OperationType
    params: dict[str, Any]
    strategy_yaml: str | None = None


class Children(Protocol):
    def start(self, child: ChildSpec, watch: Watch | None = None) -> str:
        """The child ``child.key`` (created, or the one already there); returns its id."""
        ...

    def state(self, child_id: str) -> ChildState: ...

    def stop(self, key: str, reason: str) -> None:
        """Cancel a running child (remote children: the driver polls ``watch`` itself)."""
        ...
