"""The operation state machine: every transition, and every refused one."""

from __future__ import annotations

from datetime import UTC

import pytest
from pydantic import ValidationError

from ktrdr.control.operations import (
    InvalidTransitionError,
    Operation,
    OperationNotFoundError,
    OperationsStore,
)
from ktrdr.core.progress import Progress

YAML = "name: demo\nindicators: []\n"


def _pending(store: OperationsStore, op_type: str = "training") -> Operation:
    return store.create(op_type, "demo", YAML, {"symbol": "EURUSD", "timeframe": "1h"})


def _running(store: OperationsStore, worker: str = "w1") -> Operation:
    op = _pending(store)
    assert store.mark_running(op.id, worker)
    return store.get(op.id)


# -- create / get ---------------------------------------------------------------------


def test_create_makes_a_queued_pending_operation(store: OperationsStore) -> None:
    op = _pending(store)
    assert len(op.id) == 32
    int(op.id, 16)
    assert op.type == "training"
    assert op.status == "pending"
    assert op.strategy_name == "demo"
    assert op.params == {"symbol": "EURUSD", "timeframe": "1h"}
    assert op.progress.model_dump() == {
        "percent": 0.0,
        "message": "queued",
        "items_done": 0,
        "items_total": 0,
        "details": {},
    }
    assert op.worker_id is None
    assert op.error is None
    assert op.result is None
    assert op.attempts == 0
    assert op.created_at.tzinfo is UTC
    assert op.updated_at == op.created_at
    assert op.started_at is None
    assert op.completed_at is None
    assert store.get(op.id) == op
    assert store.strategy_yaml(op.id) == YAML


@pytest.mark.parametrize(
    ("op_type", "name"),
    [("sweeping", "demo"), ("training", ""), ("training", "x" * 65)],
)
def test_create_refuses_bad_input(store: OperationsStore, op_type: str, name: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - two different messages
        store.create(op_type, name, YAML, {})


def test_unknown_ids_are_not_found(store: OperationsStore) -> None:
    with pytest.raises(OperationNotFoundError):
        store.get("nope")
    with pytest.raises(OperationNotFoundError):
        store.strategy_yaml("nope")
    with pytest.raises(OperationNotFoundError):
        store.cancel("nope")
    with pytest.raises(OperationNotFoundError):
        store.fail_or_requeue("nope", "lost", max_retries=1)
    assert not store.mark_running("nope", "w1")
    assert not store.revert_to_pending("nope", "w1")
    assert not store.update_progress("nope", "w1", Progress(percent=5))
    assert not store.finish("nope", "w1", "completed", {}, None)


# -- mark_running / revert_to_pending --------------------------------------------------


def test_mark_running_claims_a_pending_operation_once(store: OperationsStore) -> None:
    op = _pending(store)
    assert store.mark_running(op.id, "w1")
    running = store.get(op.id)
    assert running.status == "running"
    assert running.worker_id == "w1"
    assert running.started_at is not None
    assert running.started_at.tzinfo is UTC
    assert running.started_at > op.created_at
    assert running.attempts == 0
    assert not store.mark_running(op.id, "w2")
    assert store.get(op.id).worker_id == "w1"


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_mark_running_refuses_terminal_operations(store: OperationsStore, status: str) -> None:
    op = _running(store)
    assert store.finish(op.id, "w1", status, None, None)
    assert not store.mark_running(op.id, "w2")
    assert store.get(op.id).status == status


def test_mark_running_needs_a_worker_id(store: OperationsStore) -> None:
    op = _pending(store)
    with pytest.raises(ValueError, match="worker id"):
        store.mark_running(op.id, "")
    assert store.get(op.id).status == "pending"


def test_revert_to_pending_undoes_a_failed_dispatch(store: OperationsStore) -> None:
    op = _running(store)
    assert store.revert_to_pending(op.id, "w1")
    back = store.get(op.id)
    assert back.status == "pending"
    assert back.worker_id is None
    assert back.started_at is None
    assert back.attempts == 0
    assert back.progress.message == "queued"
    assert store.mark_running(op.id, "w2")


def test_revert_to_pending_only_for_the_dispatching_worker(store: OperationsStore) -> None:
    op = _running(store)
    assert not store.revert_to_pending(op.id, "w2")
    assert store.get(op.id).status == "running"
    pending = _pending(store)
    assert not store.revert_to_pending(pending.id, "w1")
    store.cancel(op.id)
    assert not store.revert_to_pending(op.id, "w1")
    assert store.get(op.id).status == "cancelled"


# -- update_progress -------------------------------------------------------------------


def test_update_progress_while_running(store: OperationsStore) -> None:
    op = _running(store)
    report = {"percent": 40, "message": "epoch 4/10", "items_done": 4, "items_total": 10}
    assert store.update_progress(op.id, "w1", Progress(**{**report, "details": {"loss": 0.5}}))
    progress = store.get(op.id).progress
    assert progress.model_dump() == {**report, "percent": 40.0, "details": {"loss": 0.5}}
    # A report is the job's whole state: the next one replaces every field.
    assert store.update_progress(op.id, "w1", Progress(percent=50, message="epoch 5/10"))
    progress = store.get(op.id).progress
    assert progress.percent == 50.0
    assert progress.message == "epoch 5/10"
    assert progress.details == {}


def test_percent_never_decreases(store: OperationsStore) -> None:
    op = _running(store)
    assert store.update_progress(op.id, "w1", Progress(percent=60, message="late"))
    assert store.update_progress(op.id, "w1", Progress(percent=30, message="stale"))
    progress = store.get(op.id).progress
    assert progress.percent == 60.0
    assert progress.message == "stale"
    with pytest.raises(ValidationError):  # a report above 100 % never reaches the store
        Progress(percent=250)


def test_update_progress_refused_unless_running_on_that_worker(store: OperationsStore) -> None:
    pending = _pending(store)
    assert not store.update_progress(pending.id, "w1", Progress(percent=10))
    op = _running(store)
    assert not store.update_progress(op.id, "w2", Progress(percent=10))
    assert store.finish(op.id, "w1", "completed", {"ok": True}, None)
    assert not store.update_progress(op.id, "w1", Progress(percent=10, message="late"))
    assert store.get(op.id).progress.message == "completed"


def test_update_progress_bumps_updated_at(store: OperationsStore) -> None:
    op = _running(store)
    assert store.update_progress(op.id, "w1", Progress(percent=1))
    assert store.get(op.id).updated_at > op.updated_at


# -- finish ----------------------------------------------------------------------------


def test_finish_completed(store: OperationsStore) -> None:
    op = _running(store)
    result = {"metrics": {"sharpe": 1.2}, "trades": 14}
    assert store.finish(op.id, "w1", "completed", result, None)
    done = store.get(op.id)
    assert done.status == "completed"
    assert done.result == result
    assert done.error is None
    assert done.progress.percent == 100.0
    assert done.completed_at is not None
    assert done.completed_at.tzinfo is UTC
    assert done.worker_id == "w1"


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_finish_failed_or_cancelled(store: OperationsStore, status: str) -> None:
    op = _running(store)
    assert store.update_progress(op.id, "w1", Progress(percent=30))
    assert store.finish(op.id, "w1", status, None, "boom")
    done = store.get(op.id)
    assert done.status == status
    assert done.error == "boom"
    assert done.progress.percent == 30.0
    assert done.completed_at is not None


def test_finish_refused_for_another_worker_or_a_pending_op(store: OperationsStore) -> None:
    op = _running(store)
    assert not store.finish(op.id, "w2", "completed", {}, None)
    assert store.get(op.id).status == "running"
    pending = _pending(store)
    assert not store.finish(pending.id, "w1", "completed", {}, None)
    assert store.get(pending.id).status == "pending"


def test_finish_twice_keeps_the_first_outcome(store: OperationsStore) -> None:
    op = _running(store)
    assert store.finish(op.id, "w1", "failed", None, "first")
    assert not store.finish(op.id, "w1", "completed", {"x": 1}, None)
    done = store.get(op.id)
    assert done.status == "failed"
    assert done.error == "first"
    assert done.result is None


def test_finish_after_cancel_returns_false_and_stays_cancelled(store: OperationsStore) -> None:
    op = _running(store)
    cancelled = store.cancel(op.id)
    assert not store.finish(op.id, "w1", "completed", {"x": 1}, None)
    after = store.get(op.id)
    assert after.status == "cancelled"
    assert after.result is None
    assert after.error == "cancelled by user"
    assert after.completed_at == cancelled.completed_at


def test_finish_needs_a_terminal_status(store: OperationsStore) -> None:
    op = _running(store)
    with pytest.raises(ValueError, match="terminal status"):
        store.finish(op.id, "w1", "pending", None, None)
    assert store.get(op.id).status == "running"


# -- cancel ----------------------------------------------------------------------------


def test_cancel_a_pending_operation(store: OperationsStore) -> None:
    op = _pending(store)
    cancelled = store.cancel(op.id, reason="changed my mind")
    assert cancelled.status == "cancelled"
    assert cancelled.error == "changed my mind"
    assert cancelled.completed_at is not None
    assert cancelled.worker_id is None
    assert store.get(op.id) == cancelled
    assert store.pending() == []


def test_cancel_a_running_operation_keeps_its_worker(store: OperationsStore) -> None:
    op = _running(store)
    cancelled = store.cancel(op.id)
    assert cancelled.status == "cancelled"
    assert cancelled.error == "cancelled by user"
    assert cancelled.worker_id == "w1"  # so the backend can tell that worker to stop
    assert store.running() == []


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_cancel_refused_for_terminal_operations(store: OperationsStore, status: str) -> None:
    op = _running(store)
    assert store.finish(op.id, "w1", status, None, None)
    with pytest.raises(InvalidTransitionError, match=f"cannot cancel .* already {status}"):
        store.cancel(op.id)
    assert store.get(op.id).status == status


# -- fail_or_requeue -------------------------------------------------------------------


def test_fail_or_requeue_retries_then_fails(store: OperationsStore) -> None:
    op = _running(store)
    assert store.update_progress(op.id, "w1", Progress(percent=70))
    requeued = store.fail_or_requeue(op.id, "worker w1 lost", max_retries=1)
    assert requeued.status == "pending"
    assert requeued.attempts == 1
    assert requeued.worker_id is None
    assert requeued.started_at is None
    assert requeued.error is None
    assert requeued.progress.message == "re-queued: worker w1 lost"
    assert requeued.progress.percent == 0.0  # a fresh attempt starts over

    assert store.mark_running(op.id, "w2")
    failed = store.fail_or_requeue(op.id, "worker w2 lost", max_retries=1)
    assert failed.status == "failed"
    assert failed.error == "worker w2 lost"
    assert failed.attempts == 1
    assert failed.completed_at is not None
    assert store.get(op.id) == failed


def test_fail_or_requeue_without_retries_fails_at_once(store: OperationsStore) -> None:
    op = _running(store)
    failed = store.fail_or_requeue(op.id, "worker lost", max_retries=0)
    assert failed.status == "failed"
    assert failed.attempts == 0


def test_fail_or_requeue_leaves_other_states_alone(store: OperationsStore) -> None:
    pending = _pending(store)
    assert store.fail_or_requeue(pending.id, "lost", max_retries=3) == pending
    op = _running(store)
    assert store.finish(op.id, "w1", "completed", {}, None)
    done = store.get(op.id)
    assert store.fail_or_requeue(op.id, "lost", max_retries=3) == done


def test_fail_or_requeue_for_a_worker_that_no_longer_has_the_op(store: OperationsStore) -> None:
    op = _running(store, worker="w2")
    unchanged = store.fail_or_requeue(op.id, "worker w1 lost", max_retries=1, worker_id="w1")
    assert unchanged == op
    requeued = store.fail_or_requeue(op.id, "worker w2 lost", max_retries=1, worker_id="w2")
    assert requeued.status == "pending"


def test_finish_after_requeue_is_refused(store: OperationsStore) -> None:
    op = _running(store)
    store.fail_or_requeue(op.id, "lost", max_retries=1)
    assert not store.finish(op.id, "w1", "completed", {}, None)
    assert store.get(op.id).status == "pending"
