"""Parents and children in the store: idempotent keys, bounds, counts, cancel cascade."""

from __future__ import annotations

import threading

import pytest

from ktrdr.control.operations import OperationsStore
from ktrdr.control.operations.store import InvalidTransitionError
from ktrdr.core.enums import OperationStatus
from ktrdr.core.errors import InvalidInputError
from tests.support import ops


def running_parent(store: OperationsStore, kind: str = "walkforward") -> str:
    parent = store.create(kind, "demo", "name: demo", {"folds": 3})
    assert store.mark_running(parent.id, "driver")
    return parent.id


def test_a_child_key_names_one_child_however_often_it_is_asked_for(
    store: OperationsStore,
) -> None:
    parent_id = running_parent(store)
    first, created = store.create_child(parent_id, "fold-1-train", "training", "demo", "y", {}, 6)
    again, created_again = store.create_child(
        parent_id, "fold-1-train", "training", "demo", "y", {}, 6
    )
    assert created
    assert not created_again
    assert again.id == first.id
    assert first.parent_id == parent_id
    assert first.child_key == "fold-1-train"
    assert [c.id for c in store.children(parent_id)] == [first.id]
    # The same key under another parent is another child.
    other = running_parent(store)
    theirs, created = store.create_child(other, "fold-1-train", "training", "demo", "y", {}, 6)
    assert created
    assert theirs.id != first.id


def test_concurrent_asks_for_one_key_create_one_child(store: OperationsStore) -> None:
    parent_id = running_parent(store)
    barrier = threading.Barrier(6)
    ids: list[str] = []

    def ask() -> None:
        barrier.wait()
        child, _ = store.create_child(parent_id, "trial-0-train", "training", "d", "y", {}, 9)
        ids.append(child.id)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(set(ids)) == 1
    assert len(ids) == 6
    assert len(store.children(parent_id)) == 1


def test_children_are_bounded_and_need_a_running_parent(store: OperationsStore) -> None:
    parent_id = running_parent(store)
    for n in range(3):
        store.create_child(parent_id, f"trial-{n}-train", "training", "d", "y", {}, 3)
    with pytest.raises(InvalidInputError, match="has its 3 children already"):
        store.create_child(parent_id, "trial-3-train", "training", "d", "y", {}, 3)
    pending = store.create("sweep", "demo", "name: demo", {}).id
    with pytest.raises(InvalidTransitionError, match="takes no new children"):
        store.create_child(pending, "trial-0-train", "training", "d", "y", {}, 3)


def test_counts_give_the_parent_progress(store: OperationsStore) -> None:
    parent_id = running_parent(store)
    kids = [
        store.create_child(parent_id, f"fold-{n}-train", "training", "d", "y", {}, 6)[0].id
        for n in range(4)
    ]
    assert store.mark_running(kids[0], "t1")
    assert ops.finish(store, kids[0], "t1", "completed", {"model_id": "d/1d_v1"}, None)
    assert store.mark_running(kids[1], "t2")
    counts, total = store.child_counts(parent_id)
    assert total == 4
    assert counts[OperationStatus.COMPLETED] == 1
    assert counts[OperationStatus.RUNNING] == 1
    assert counts[OperationStatus.PENDING] == 2
    page, found = store.list(parent_id=parent_id)
    assert found == 4
    assert {op.id for op in page} == set(kids)


def test_cancelling_children_stops_the_active_ones_only(store: OperationsStore) -> None:
    parent_id = running_parent(store)
    done, running, waiting = (
        store.create_child(parent_id, f"fold-{n}-train", "training", "d", "y", {}, 6)[0].id
        for n in range(3)
    )
    assert store.mark_running(done, "t1")
    assert ops.finish(store, done, "t1", "completed", {}, None)
    assert store.mark_running(running, "t2")
    cancelled = store.cancel_children(parent_id, "parent cancelled")
    assert {c.id: c.status for c in cancelled} == {
        running: OperationStatus.RUNNING,  # as it was: its worker must be told
        waiting: OperationStatus.PENDING,
    }
    assert store.get(done).status == OperationStatus.COMPLETED
    assert store.get(running).status == OperationStatus.CANCELLED
    assert store.get(running).error == "parent cancelled"


def test_a_lost_childs_requeue_leaves_its_parent_running(store: OperationsStore) -> None:
    parent_id = running_parent(store)
    child = store.create_child(parent_id, "fold-1-train", "training", "d", "y", {}, 6)[0].id
    assert store.mark_running(child, "t1")
    again = store.fail_or_requeue(child, "worker t1 was lost", max_retries=1, worker_id="t1")
    assert again.status == OperationStatus.PENDING
    assert again.attempts == 1
    assert again.parent_id == parent_id
    assert again.child_key == "fold-1-train"
    assert store.get(parent_id).status == OperationStatus.RUNNING
    assert [op.id for op in store.pending()] == [child]  # dispatched again like any other
