"""The polled reads' JSON: the same text the models give, and never a stale version."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from ktrdr.control.operations import OperationNotFoundError, OperationsStore
from ktrdr.control.operations.rendered import RenderedCache
from ktrdr.core.api_models import OperationPage
from ktrdr.core.errors import InvalidInputError
from ktrdr.core.progress import Progress
from tests.support import ops


def _model_page(store: OperationsStore, **query: object) -> str:
    limit, offset = query.get("limit", 50), query.get("offset", 0)
    records, total = store.list(**query)  # type: ignore[arg-type]
    page = OperationPage(operations=records, total=total, limit=limit, offset=offset)  # type: ignore[arg-type]
    return page.model_dump_json(by_alias=True)


def _assert_reads_match(store: OperationsStore, ids: list[str]) -> None:
    for query in (
        {},
        {"limit": 2},
        {"limit": 2, "offset": 3},
        {"offset": 99},
        {"status": "completed"},
        {"op_type": "backtesting"},
        {"status": "pending", "op_type": "training"},
    ):
        assert store.page_json(**query) == _model_page(store, **query), query  # type: ignore[arg-type]
    for op_id in ids:
        assert store.operation_json(op_id) == store.get(op_id).model_dump_json(by_alias=True)


def _populate(store: OperationsStore) -> list[str]:
    ids = []
    for i in range(6):
        op_type = "backtesting" if i % 2 else "training"
        ids.append(store.create(op_type, f"s{i}", "name: s", {"i": i, "nested": [i]}).id)
    for op_id in ids[:3]:
        assert store.mark_running(op_id, "w1")
    ops.finish(store, ids[0], "w1", "completed", {"metrics": {"sharpe": 1.5}, "trades": [1]}, None)
    ops.finish(store, ids[1], "w1", "failed", None, "boom")
    ops.progress(store, ids[2], "w1", Progress(percent=40, message="epoch 2"))
    return ids


def test_the_json_is_what_the_models_render(store: OperationsStore) -> None:
    ids = _populate(store)
    _assert_reads_match(store, ids)
    _assert_reads_match(store, ids)  # the second time from rendered text


def test_every_change_is_seen_at_once(store: OperationsStore) -> None:
    ids = _populate(store)
    _assert_reads_match(store, ids)
    before = json.loads(store.operation_json(ids[2]))
    ops.progress(store, ids[2], "w1", Progress(percent=80, message="epoch 4"))
    assert json.loads(store.operation_json(ids[2]))["progress"]["percent"] == 80
    assert before["progress"]["percent"] == 40
    ops.finish(store, ids[2], "w1", "completed", {"model_id": "m/1d_v1"}, None)
    store.cancel(ids[3])
    assert store.mark_running(ids[4], "w2")
    _assert_reads_match(store, ids)
    listed = {op["id"]: op for op in json.loads(store.page_json())["operations"]}
    assert listed[ids[2]]["status"] == "completed"
    assert listed[ids[3]]["status"] == "cancelled"
    assert listed[ids[4]]["worker_id"] == "w2"


def test_a_write_through_another_store_is_seen(engine: Engine, store: OperationsStore) -> None:
    """Two backends on one database: each one's rendered rows follow the other's writes."""
    other = OperationsStore(engine)
    ids = _populate(store)
    _assert_reads_match(store, ids)
    _assert_reads_match(other, ids)
    assert other.mark_running(ids[5], "w9")
    _assert_reads_match(store, ids)
    assert json.loads(store.operation_json(ids[5]))["worker_id"] == "w9"


def test_an_unknown_operation_and_bad_filters_answer_as_list_does(store: OperationsStore) -> None:
    with pytest.raises(OperationNotFoundError):
        store.operation_json("nope")
    for bad in ({"status": "sleeping"}, {"op_type": "mining"}, {"limit": 0}, {"offset": -1}):
        with pytest.raises(InvalidInputError) as from_list:
            store.list(**bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError) as from_json:
            store.page_json(**bad)  # type: ignore[arg-type]
        assert str(from_json.value) == str(from_list.value)


def test_the_cache_serves_only_the_version_it_rendered() -> None:
    cache = RenderedCache(max_bytes=100)
    cache.put("a", 1, "one")
    assert cache.get("a", 1) == "one"
    assert cache.get("a", 2) is None
    cache.put("a", 2, "two")
    assert cache.get("a", 1) is None
    assert cache.get("a", 2) == "two"
    assert len(cache) == 1
    assert cache.size_bytes == 3


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    cache = RenderedCache(max_bytes=25)
    for key in "abc":
        cache.put(key, 0, key * 10)  # 30 bytes asked for: "a" goes
    assert cache.get("a", 0) is None
    assert cache.get("b", 0) == "b" * 10
    cache.put("d", 0, "d" * 10)  # "c" is now the least recently used
    assert cache.get("c", 0) is None
    assert cache.get("b", 0)
    assert cache.get("d", 0)
    assert cache.size_bytes == 20
    cache.put("huge", 0, "x" * 26)  # larger than the whole cache: not kept, nothing evicted
    assert cache.get("huge", 0) is None
    assert len(cache) == 2
