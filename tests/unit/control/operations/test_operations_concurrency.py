"""Concurrent callers: exactly one wins each transition, nothing is lost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine

from ktrdr.control.db import create_database_engine
from ktrdr.control.operations import InvalidTransitionError, OperationsStore
from ktrdr.core.progress import Progress
from tests.support import ops

T = TypeVar("T")


def _race(n: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(i)`` for i in range(n) in n threads released together."""
    barrier = threading.Barrier(n)
    results: list[T | None] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results  # type: ignore[return-value]


def test_one_of_eight_mark_running_calls_wins(store: OperationsStore) -> None:
    op = store.create("training", "demo", "name: demo", {})
    attempts = _race(8, lambda i: store.mark_running(op.id, f"w{i}"))
    won = [attempt for attempt in attempts if attempt is not None]
    assert len(won) == 1
    winner = f"w{attempts.index(won[0])}"
    assert store.get(op.id).worker_id == winner
    assert store.attempt_of(op.id) == won[0]  # the winner's token is the one in force


def test_one_winner_across_separate_engines(db_url: str, engine: Engine) -> None:
    # Like several backend processes sharing the file.
    engines = [create_database_engine(db_url) for _ in range(4)]
    stores = [OperationsStore(e) for e in engines]
    try:
        for _ in range(5):
            op = stores[0].create("training", "demo", "name: demo", {})
            wins = _race(4, lambda i, op_id=op.id: stores[i].mark_running(op_id, f"w{i}"))
            assert sum(attempt is not None for attempt in wins) == 1
    finally:
        for e in engines:
            e.dispose()


def test_finish_and_cancel_race_has_one_outcome(store: OperationsStore) -> None:
    for _ in range(5):
        op = store.create("training", "demo", "name: demo", {})
        assert store.mark_running(op.id, "w1")

        def act(i: int, op_id: str = op.id) -> str:
            if i % 2:
                return "finished" if ops.finish(store, op_id, "w1", "completed", {}, None) else "-"
            try:
                store.cancel(op_id)
            except InvalidTransitionError:
                return "-"
            return "cancelled"

        outcomes = _race(6, act)
        winners = [o for o in outcomes if o != "-"]
        assert len(winners) == 1
        expected = "completed" if winners[0] == "finished" else "cancelled"
        assert store.get(op.id).status == expected


def test_concurrent_creates_are_all_kept(store: OperationsStore) -> None:
    created = _race(
        8, lambda i: [store.create("training", f"s{i}", "", {"n": n}).id for n in range(10)]
    )
    ids = [op_id for batch in created for op_id in batch]
    assert len(set(ids)) == 80
    assert store.list(limit=1)[1] == 80
    assert len(store.pending(limit=1000)) == 80


def test_concurrent_progress_keeps_the_highest_percent(store: OperationsStore) -> None:
    op = store.create("training", "demo", "name: demo", {})
    assert store.mark_running(op.id, "w1")
    percents = [5.0, 80.0, 20.0, 65.0, 10.0, 40.0, 75.0, 30.0]
    assert all(_race(8, lambda i: ops.progress(store, op.id, "w1", Progress(percent=percents[i]))))
    assert store.get(op.id).progress.percent == 80.0
