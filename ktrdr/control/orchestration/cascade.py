"""A parent's end is its children's end: cancelling (or losing) a parent stops them.

Used by the cancel endpoint, by a driver's finish report and by the supervisor when a
driver's operation fails for good, so that no child keeps a worker busy for nobody.
"""

from __future__ import annotations

from ktrdr.control.operations.store import OperationsStore
from ktrdr.control.orchestration.registry import WorkerRegistry
from ktrdr.control.orchestration.worker_client import WorkerClient
from ktrdr.core.enums import OperationStatus
from ktrdr.core.logging_setup import get_logger

log = get_logger(__name__)


def cancel_children(
    store: OperationsStore,
    registry: WorkerRegistry,
    client: WorkerClient,
    parent_id: str,
    reason: str,
) -> int:
    """Cancel the parent's pending and running children; tell their workers to stop."""
    cancelled = store.cancel_children(parent_id, reason)
    for child in cancelled:
        worker = registry.get(child.worker_id or "")
        if child.status == OperationStatus.RUNNING and worker is not None:
            client.cancel(worker.endpoint_url, child.id)
    if cancelled:
        log.info("children_cancelled", parent_id=parent_id, count=len(cancelled))
    return len(cancelled)
