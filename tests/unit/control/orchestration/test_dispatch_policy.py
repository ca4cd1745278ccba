"""Dispatch policy: GPU-first training, least recently used backtest workers, FIFO."""

from __future__ import annotations

from pathlib import Path

import pytest

from ktrdr.control.db.engine import create_database_engine
from ktrdr.control.db.migrate import upgrade_to_head
from ktrdr.control.operations.store import OperationsStore
from ktrdr.control.orchestration.dispatcher import Dispatcher
from ktrdr.control.orchestration.registry import WorkerRegistry
from ktrdr.core.enums import OperationStatus, WorkerStatus
from ktrdr.core.protocol import (
    OperationDispatch,
    WorkerCapabilities,
    WorkerHealth,
    WorkerRegistration,
)
from tests.support import ops


def register(registry: WorkerRegistry, worker_id: str, kind: str, gpu: bool = False) -> None:
    registry.register(
        WorkerRegistration(
            worker_id=worker_id,
            worker_type=kind,  # type: ignore[arg-type]
            endpoint_url=f"http://{worker_id}:1",
            instance_id=ops.instance_id(worker_id),
            capabilities=WorkerCapabilities(gpu=gpu, device="cuda:0" if gpu else "cpu"),
        )
    )


class RecordingClient:
    """Stands in for the workers' HTTP endpoint: accepts, or answers busy."""

    def __init__(self, busy: set[str] | None = None) -> None:
        self.busy = busy or set()
        self.sent: list[tuple[str, str]] = []

    def dispatch(self, endpoint_url: str, dispatch: OperationDispatch) -> int:
        worker = endpoint_url.removeprefix("http://").removesuffix(":1")
        if worker in self.busy:
            return 409
        self.sent.append((worker, dispatch.operation_id))
        return 202

    def cancel(self, endpoint_url: str, operation_id: str) -> int:
        return 202


@pytest.fixture
def store(tmp_path: Path) -> OperationsStore:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'ops.db'}")
    upgrade_to_head(engine)
    return OperationsStore(engine)


def queue(store: OperationsStore, kind: str, n: int) -> list[str]:
    return [store.create(kind, "demo", "name: demo\n", {}).id for _ in range(n)]


def test_training_goes_to_gpu_workers_first(store: OperationsStore) -> None:
    registry = WorkerRegistry()
    register(registry, "cpu-1", "training")
    register(registry, "gpu-1", "training", gpu=True)
    register(registry, "cpu-2", "training")
    client = RecordingClient()
    first, second, third = queue(store, "training", 3)
    assert Dispatcher(store, registry, client).dispatch_pending() == 3  # type: ignore[arg-type]
    assert client.sent[0] == ("gpu-1", first)
    assert {worker for worker, _ in client.sent[1:]} == {"cpu-1", "cpu-2"}
    assert [op for _, op in client.sent] == [first, second, third]


def test_backtests_rotate_over_the_least_recently_used_worker(store: OperationsStore) -> None:
    registry = WorkerRegistry()
    for name in ("bt-a", "bt-b", "bt-c"):
        register(registry, name, "backtesting")
    client = RecordingClient()
    dispatcher = Dispatcher(store, registry, client)  # type: ignore[arg-type]
    order = []
    for _ in range(6):
        (op,) = queue(store, "backtesting", 1)
        dispatcher.dispatch_pending()
        worker, sent_op = client.sent[-1]
        assert sent_op == op
        order.append(worker)
        registry.release(worker, op)
    assert len(set(order[:3])) == 3  # every worker used once before any twice
    assert order[3:] == order[:3]  # then the same rotation


def test_operations_wait_while_no_worker_is_free(store: OperationsStore) -> None:
    registry = WorkerRegistry()
    client = RecordingClient()
    dispatcher = Dispatcher(store, registry, client)  # type: ignore[arg-type]
    (op,) = queue(store, "training", 1)
    assert dispatcher.dispatch_pending() == 0
    assert store.get(op).status == "pending"
    register(registry, "trainer", "training")
    assert dispatcher.dispatch_pending() == 1
    assert store.get(op).status == "running"
    assert store.get(op).worker_id == "trainer"


def test_a_busy_answer_keeps_fifo_order(store: OperationsStore) -> None:
    registry = WorkerRegistry()
    register(registry, "bt", "backtesting")
    client = RecordingClient(busy={"bt"})
    dispatcher = Dispatcher(store, registry, client)  # type: ignore[arg-type]
    first, second = queue(store, "backtesting", 2)
    assert dispatcher.dispatch_pending() == 0  # the worker still finishes a job: 409
    assert {store.get(first).status, store.get(second).status} == {"pending"}
    client.busy.clear()
    dispatcher.dispatch_pending()
    assert client.sent == [("bt", first)]  # the older one goes first, the other waits


def test_a_worker_of_the_wrong_type_gets_nothing(store: OperationsStore) -> None:
    registry = WorkerRegistry()
    register(registry, "bt", "backtesting")
    client = RecordingClient()
    queue(store, "training", 1)
    assert Dispatcher(store, registry, client).dispatch_pending() == 0  # type: ignore[arg-type]
    assert client.sent == []


def test_a_round_with_no_free_worker_does_not_read_the_queue(
    store: OperationsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = WorkerRegistry()
    register(registry, "bt-a", "backtesting")
    client = RecordingClient()
    dispatcher = Dispatcher(store, registry, client)  # type: ignore[arg-type]
    first, second = queue(store, "backtesting", 2)
    assert dispatcher.dispatch_pending() == 1  # bt-a takes the first; now none is free
    reads: list[int] = []
    original = store.pending
    monkeypatch.setattr(store, "pending", lambda *a, **k: reads.append(1) or original(*a, **k))
    assert dispatcher.dispatch_pending() == 0
    assert reads == []  # every wake-up under load costs no query
    registry.release("bt-a", first)
    assert dispatcher.dispatch_pending() == 1
    assert reads == [1]
    assert [op for _, op in client.sent] == [first, second]


def health(worker_id: str, current: str | None, last_accepted: str | None) -> WorkerHealth:
    return WorkerHealth(
        worker_id=worker_id,
        worker_type="backtesting",  # type: ignore[arg-type]
        status=WorkerStatus.BUSY if current else WorkerStatus.IDLE,
        instance_id=ops.instance_id(worker_id),
        current_operation_id=current,
        last_accepted_id=last_accepted,
    )


def test_a_report_older_than_the_dispatch_does_not_free_the_worker(
    store: OperationsStore,
) -> None:
    """A health answer or heartbeat made before the worker took B, applied after B was
    handed out, must not make it look idle: B's successor would be marked running (its
    started_at recorded) while B still runs."""
    registry = WorkerRegistry()
    register(registry, "bt", "backtesting")
    client = RecordingClient()
    dispatcher = Dispatcher(store, registry, client)  # type: ignore[arg-type]
    first, second = queue(store, "backtesting", 2)
    assert dispatcher.dispatch_pending() == 1
    # Made when the worker was idle, before it accepted ``first``:
    assert registry.seen("bt", health("bt", None, "op-0"))
    assert registry.get("bt").current_operation_id == first  # type: ignore[union-attr]
    assert registry.seen("bt", health("bt", "op-0", "op-0"))  # busy with an older one
    assert registry.get("bt").current_operation_id == first  # type: ignore[union-attr]
    assert dispatcher.dispatch_pending() == 0
    assert store.get(second).status == OperationStatus.PENDING
    # Once the worker's reports speak of ``first``, they count again.
    assert registry.seen("bt", health("bt", first, first))
    assert registry.get("bt").status == WorkerStatus.BUSY  # type: ignore[union-attr]
    assert registry.seen("bt", health("bt", None, first))  # done with it
    assert registry.get("bt").status == WorkerStatus.IDLE  # type: ignore[union-attr]
    assert dispatcher.dispatch_pending() == 1
    assert client.sent == [("bt", first), ("bt", second)]


def test_a_report_that_does_not_say_what_it_accepted_is_taken_as_it_is(
    store: OperationsStore,
) -> None:
    registry = WorkerRegistry()
    register(registry, "bt", "backtesting")
    (first,) = queue(store, "backtesting", 1)
    assert Dispatcher(store, registry, RecordingClient()).dispatch_pending() == 1  # type: ignore[arg-type]
    assert registry.get("bt").current_operation_id == first  # type: ignore[union-attr]
    assert registry.seen("bt", health("bt", None, None))
    assert registry.get("bt").status == WorkerStatus.IDLE  # type: ignore[union-attr]
    assert registry.get("bt").current_operation_id is None  # type: ignore[union-attr]


def test_a_busy_report_made_before_the_finish_does_not_hold_the_worker(
    store: OperationsStore,
) -> None:
    """A heartbeat made while the worker still ran A, applied after A's finish freed it,
    must not mark it busy with A again: B would wait, and `ktrdr workers` would show a
    finished operation running."""
    registry = WorkerRegistry()
    register(registry, "bt", "backtesting")
    client = RecordingClient()
    dispatcher = Dispatcher(store, registry, client)  # type: ignore[arg-type]
    first, second = queue(store, "backtesting", 2)
    assert dispatcher.dispatch_pending() == 1
    registry.finished("bt", first)
    assert registry.seen("bt", health("bt", first, first))  # made before the finish
    assert registry.get("bt").status == WorkerStatus.IDLE  # type: ignore[union-attr]
    assert registry.get("bt").current_operation_id is None  # type: ignore[union-attr]
    assert dispatcher.dispatch_pending() == 1
    assert client.sent == [("bt", first), ("bt", second)]
    # Reports of the operation it now runs count as ever.
    assert registry.seen("bt", health("bt", second, second))
    assert registry.get("bt").current_operation_id == second  # type: ignore[union-attr]


def test_an_operation_handed_out_again_after_its_finish_is_reported_again(
    store: OperationsStore,
) -> None:
    """A retry gives the same id to the same worker: its busy reports are current again."""
    registry = WorkerRegistry()
    register(registry, "bt", "backtesting")
    (first,) = queue(store, "backtesting", 1)
    assert registry.claim("bt", first)
    registry.finished("bt", first)
    assert registry.claim("bt", first)
    assert registry.seen("bt", health("bt", first, first))
    assert registry.get("bt").status == WorkerStatus.BUSY  # type: ignore[union-attr]
    assert registry.get("bt").current_operation_id == first  # type: ignore[union-attr]
    registry.finished("bt", first)
    assert registry.seen("bt", health("bt", None, first))
    assert registry.get("bt").status == WorkerStatus.IDLE  # type: ignore[union-attr]


def test_a_finish_for_another_operation_leaves_the_current_claim(
    store: OperationsStore,
) -> None:
    registry = WorkerRegistry()
    register(registry, "bt", "backtesting")
    first, second = queue(store, "backtesting", 2)
    assert registry.claim("bt", second)
    registry.finished("bt", first)  # a late finish of an earlier attempt
    assert registry.get("bt").current_operation_id == second  # type: ignore[union-attr]
    assert registry.get("bt").status == WorkerStatus.BUSY  # type: ignore[union-attr]
