"""What a job is handed, like arq's ``ctx``: nothing in a job reads a global."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ktrdr.core.progress import CancelToken, ProgressCallback
from ktrdr.core.protocol import OperationDispatch
from ktrdr.core.settings import Settings
from ktrdr.research.data.store import DataStore

if TYPE_CHECKING:
    from ktrdr.workers.backend_client import BackendClient


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    data: DataStore
    progress: ProgressCallback
    cancel: CancelToken
    # A driver's way back to the backend (its children), as this worker.
    backend: BackendClient | None = None
    worker_id: str = ""


# A job runs one dispatched operation and returns its JSON-ready result.
JobFunction = Callable[[JobContext, OperationDispatch], dict[str, Any]]
