"""Reads: FIFO pending, list filters and pagination, counts, API shape, restarts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from ktrdr.control.db import create_database_engine
from ktrdr.control.db.migrate import upgrade_to_head
from ktrdr.control.operations import OperationsStore
from ktrdr.core.progress import Progress
from tests.support import ops


def _create(store: OperationsStore, n: int, op_type: str = "training") -> list[str]:
    return [store.create(op_type, f"s{i}", "name: s", {"i": i}).id for i in range(n)]


def test_pending_is_first_in_first_out(store: OperationsStore) -> None:
    ids = _create(store, 6)
    assert [op.id for op in store.pending()] == ids
    assert [op.id for op in store.pending(limit=2)] == ids[:2]
    assert store.mark_running(ids[0], "w1")
    assert store.mark_running(ids[3], "w2")
    assert [op.id for op in store.pending()] == [ids[1], ids[2], ids[4], ids[5]]


def test_a_requeued_operation_keeps_its_place(store: OperationsStore) -> None:
    ids = _create(store, 3)
    assert store.mark_running(ids[0], "w1")
    store.fail_or_requeue(ids[0], "lost", max_retries=1)
    assert [op.id for op in store.pending()] == ids


def test_running_lists_running_operations(store: OperationsStore) -> None:
    ids = _create(store, 3)
    assert store.running() == []
    assert store.mark_running(ids[2], "w1")
    assert store.mark_running(ids[0], "w2")
    assert [op.id for op in store.running()] == [ids[2], ids[0]]


def test_list_is_newest_first_with_a_total(store: OperationsStore) -> None:
    ids = _create(store, 5)
    items, total = store.list()
    assert total == 5
    assert [op.id for op in items] == ids[::-1]


def test_list_pagination(store: OperationsStore) -> None:
    ids = _create(store, 5)[::-1]
    pages = [store.list(limit=2, offset=offset) for offset in (0, 2, 4, 6)]
    assert [[op.id for op in items] for items, _ in pages] == [ids[:2], ids[2:4], ids[4:], []]
    assert {total for _, total in pages} == {5}


def test_list_filters(store: OperationsStore) -> None:
    training = _create(store, 3, "training")
    backtests = _create(store, 2, "backtesting")
    assert store.mark_running(training[0], "w1")
    assert store.mark_running(backtests[1], "w2")
    store.cancel(training[1])

    def ids(**filters: object) -> tuple[list[str], int]:
        items, total = store.list(**filters)  # type: ignore[arg-type]
        return [op.id for op in items], total

    assert ids(op_type="training") == (training[::-1], 3)
    assert ids(op_type="backtesting") == (backtests[::-1], 2)
    assert ids(status="running") == ([backtests[1], training[0]], 2)
    assert ids(status="running", op_type="training") == ([training[0]], 1)
    assert ids(status="cancelled") == ([training[1]], 1)
    assert ids(status="pending", limit=1) == ([backtests[0]], 2)
    assert ids(status="completed") == ([], 0)


@pytest.mark.parametrize(
    "bad",
    [{"status": "done"}, {"op_type": "grid_search"}, {"limit": 0}, {"offset": -1}],
)
def test_list_refuses_bad_arguments(store: OperationsStore, bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several messages
        store.list(**bad)  # type: ignore[arg-type]


def test_counts_by_status(store: OperationsStore) -> None:
    assert store.counts_by_status() == dict.fromkeys(
        ["pending", "running", "completed", "failed", "cancelled"], 0
    )
    ids = _create(store, 4)
    assert store.mark_running(ids[0], "w1")
    assert store.mark_running(ids[1], "w2")
    assert ops.finish(store, ids[1], "w2", "failed", None, "x")
    store.cancel(ids[2])
    assert store.counts_by_status() == {
        "pending": 1,
        "running": 1,
        "completed": 0,
        "failed": 1,
        "cancelled": 1,
    }


def test_to_api_shape(store: OperationsStore) -> None:
    op = store.create("backtesting", "demo", "name: demo", {"symbol": "EURUSD"})
    assert store.mark_running(op.id, "w1")
    assert ops.progress(store, op.id, "w1", Progress(percent=12.5, message="bar 125/1000"))
    api = store.get(op.id).model_dump(mode="json")
    assert list(api) == [
        "id",
        "type",
        "status",
        "strategy_name",
        "params",
        "progress",
        "worker_id",
        "error",
        "attempts",
        "created_at",
        "started_at",
        "completed_at",
        "updated_at",
        "parent_id",
        "child_key",
        "result",
    ]
    assert list(api["progress"]) == ["percent", "message", "items_done", "items_total", "details"]
    assert api["progress"]["percent"] == 12.5
    assert api["status"] == "running"
    assert api["completed_at"] is None
    for key in ("created_at", "started_at"):
        parsed = datetime.fromisoformat(api[key])
        assert parsed.utcoffset() is not None
        assert parsed.utcoffset().total_seconds() == 0
    json.dumps(api)  # plain JSON, no datetimes left


def test_the_summary_leaves_out_the_result(store: OperationsStore) -> None:
    op = store.create("training", "demo", "name: demo", {})
    assert store.mark_running(op.id, "w1")
    assert ops.finish(store, op.id, "w1", "completed", {"model": "m1"}, None)
    record = store.get(op.id)
    assert record.result == {"model": "m1"}
    summary = record.summary()
    assert "result" not in summary.model_dump()
    assert summary.model_dump(exclude={"result"}) == record.model_dump(exclude={"result"})


def test_everything_survives_a_restart(db_url: str, engine: Engine) -> None:
    store = OperationsStore(engine)
    ids = _create(store, 3)
    assert store.mark_running(ids[0], "w1")
    assert ops.progress(store, ids[0], "w1", Progress(percent=33, details={"epoch": 3}))
    assert store.mark_running(ids[1], "w2")
    assert ops.finish(store, ids[1], "w2", "completed", {"sharpe": 0.9}, None)
    before = {op_id: store.get(op_id) for op_id in ids}
    engine.dispose()

    # A new process: new engine on the same file, migrations run again at start.
    restarted = create_database_engine(db_url)
    try:
        assert upgrade_to_head(restarted) == "0004"
        again = OperationsStore(restarted)
        after = {op_id: again.get(op_id) for op_id in ids}
        assert after == before
        for record in after.values():
            for stamp in (record.created_at, record.updated_at, record.started_at):
                assert stamp is None or stamp.tzinfo is UTC
        assert after[ids[0]].progress.details == {"epoch": 3}
        assert again.strategy_yaml(ids[2]) == "name: s"
        assert [op.id for op in again.pending()] == [ids[2]]
        # New operations still queue behind the old ones.
        newer = again.create("training", "late", "name: late", {})
        assert [op.id for op in again.pending()] == [ids[2], newer.id]
    finally:
        restarted.dispose()
