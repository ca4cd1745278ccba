"""Report to the operations store as the operation's current attempt would, in one call.

The store fences every report by attempt token; most state-machine tests are about the
state, not the token, so these read the token in force and report with it (tests of the
fencing itself pass tokens explicitly). Each returns True when the report was accepted.
"""

from __future__ import annotations

from typing import Any

from ktrdr.control.operations.store import OperationsStore, ReportOutcome
from ktrdr.core.progress import Progress

NO_ATTEMPT = "0" * 32  # never issued: what a report of an operation never dispatched holds


def current_attempt(store: OperationsStore, op_id: str) -> str:
    return store.attempt_of(op_id) or NO_ATTEMPT


def progress(store: OperationsStore, op_id: str, worker_id: str, report: Progress) -> bool:
    outcome = store.update_progress(op_id, worker_id, current_attempt(store, op_id), report)
    return outcome == ReportOutcome.ACCEPTED


def finish(
    store: OperationsStore,
    op_id: str,
    worker_id: str,
    status: str,
    result: dict[str, Any] | None,
    error: str | None,
) -> bool:
    attempt = current_attempt(store, op_id)
    return store.finish(op_id, worker_id, attempt, status, result, error) == ReportOutcome.ACCEPTED


def revert(store: OperationsStore, op_id: str, worker_id: str) -> bool:
    return store.revert_to_pending(op_id, worker_id, current_attempt(store, op_id))


def instance_id(name: str) -> str:
    """A worker process id (32 hex digits) that tests can tell apart by name."""
    return name.encode().hex()[:32].ljust(32, "0")
