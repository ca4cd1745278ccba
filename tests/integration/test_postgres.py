"""PostgreSQL through KTRDR_DATABASE_URL, against a real, throw-away PostgreSQL 15 server.

Each test gets its own empty database on the session's server (see tests/support/postgres.py):
migrations, the operations state machine, and the backend process itself.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, event, inspect, make_url, text

from ktrdr.control.db import create_database_engine
from ktrdr.control.db.migrate import current_revision, head_revision, upgrade_to_head
from ktrdr.control.db.models import Base
from ktrdr.control.operations import InvalidTransitionError, OperationsStore
from ktrdr.core.api_models import OperationPage
from ktrdr.core.progress import Progress
from tests.support import ops
from tests.support.postgres import PostgresServer, postgres_server  # noqa: F401  (fixture)
from tests.support.stack import Stack, canary_strategy
from tests.support.together import run_together

pytestmark = pytest.mark.integration
T = TypeVar("T")


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> Iterator[str]:  # noqa: F811
    """A new, empty database on the session's server; dropped afterwards."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(str(make_url(url).database))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> OperationsStore:
    upgrade_to_head(engine)
    return OperationsStore(engine)


def _race(n: int, work: Callable[[int], T]) -> list[T]:
    """``work(i)`` for i in range(n), in n threads released together; errors fail the test."""
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


# -- the server and the engine ----------------------------------------------------------


def test_the_engine_talks_to_a_real_postgresql_15(engine: Engine) -> None:
    assert engine.dialect.name == "postgresql"
    assert engine.dialect.driver == "psycopg"
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar_one()
    assert version.startswith("15.")


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_plain_url_is_served_by_psycopg(database_url: str, scheme: str) -> None:
    plain = database_url.replace("postgresql+psycopg://", f"{scheme}://")
    engine = create_database_engine(plain)
    try:
        assert engine.dialect.driver == "psycopg"
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


# -- migrations -------------------------------------------------------------------------


def test_upgrade_creates_the_schema_on_an_empty_database(engine: Engine) -> None:
    assert current_revision(engine) is None
    assert inspect(engine).get_table_names() == []
    assert upgrade_to_head(engine) == head_revision()
    assert current_revision(engine) == head_revision()
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) == {"operations", "leases", "alembic_version"}
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("operations")}
    assert indexes == {
        "ix_operations_status": ["status"],
        "ix_operations_status_created_at": ["status", "created_at"],
        "ix_operations_created_at_id": ["created_at", "id"],
        "ix_operations_parent_id": ["parent_id"],
        "uq_operations_parent_child_key": ["parent_id", "child_key"],
    }
    with engine.connect() as conn:
        # The migration and the ORM model agree on PostgreSQL too.
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        timestamp_types = conn.execute(
            text(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'operations' AND column_name LIKE '%\\_at'"
            )
        ).all()
    assert dict(timestamp_types) == dict.fromkeys(
        ("created_at", "started_at", "completed_at", "updated_at"), "timestamp with time zone"
    )


def test_a_second_upgrade_is_a_no_op(engine: Engine) -> None:
    upgrade_to_head(engine)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert upgrade_to_head(engine) == head_revision()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    changes = [s for s in statements if s.lstrip().split()[0].upper() in {"CREATE", "ALTER"}]
    assert changes == []
    assert not any("alembic_version" in s and "UPDATE" in s.upper() for s in statements)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_two_concurrent_upgrades_in_threads_both_succeed(database_url: str) -> None:
    engines = [create_database_engine(database_url) for _ in range(2)]
    try:
        results = _race(2, lambda i: upgrade_to_head(engines[i]))
    finally:
        for engine in engines:
            engine.dispose()
    assert results == [head_revision()] * 2
    engine = create_database_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    finally:
        engine.dispose()


def test_concurrent_upgrades_in_separate_processes_all_succeed(
    database_url: str, tmp_path: Path
) -> None:
    # Separate processes do not share the in-process migration lock: the advisory lock
    # alone keeps their upgrades apart.
    for result in run_together(f"print(upgrade_to_head({database_url!r}))", 3, tmp_path):
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == head_revision()


# -- the operations store ---------------------------------------------------------------


def test_create_and_read_back(store: OperationsStore) -> None:
    op = store.create("training", "demo", "name: demo\n", {"symbol": "IBM", "nested": {"a": [1]}})
    assert op.status == "pending"
    assert op.attempts == 0
    assert op.params == {"symbol": "IBM", "nested": {"a": [1]}}
    assert op.progress.message == "queued"
    assert op.created_at.tzinfo is UTC
    assert store.get(op.id) == op
    assert store.strategy_yaml(op.id) == "name: demo\n"


def test_pending_is_first_in_first_out(store: OperationsStore) -> None:
    ids = [store.create("training", f"s{i}", "name: s", {}).id for i in range(6)]
    assert [op.id for op in store.pending()] == ids
    assert store.mark_running(ids[0], "w1")
    assert store.mark_running(ids[3], "w2")
    assert [op.id for op in store.pending()] == [ids[1], ids[2], ids[4], ids[5]]
    assert [op.id for op in store.pending(limit=2)] == [ids[1], ids[2]]


def test_one_of_eight_concurrent_mark_running_calls_wins(store: OperationsStore) -> None:
    for _ in range(5):
        op = store.create("training", "demo", "name: demo", {})
        attempts = _race(8, lambda i, op_id=op.id: store.mark_running(op_id, f"w{i}"))
        won = [attempt for attempt in attempts if attempt is not None]
        assert len(won) == 1
        running = store.get(op.id)
        assert running.status == "running"
        assert running.worker_id == f"w{attempts.index(won[0])}"
        assert store.attempt_of(op.id) == won[0]


def test_one_winner_across_separate_engines(database_url: str, store: OperationsStore) -> None:
    # Like several backend processes sharing one database: separate connection pools.
    engines = [create_database_engine(database_url) for _ in range(8)]
    stores = [OperationsStore(e) for e in engines]
    try:
        op = store.create("training", "demo", "name: demo", {})
        attempts = _race(8, lambda i: stores[i].mark_running(op.id, f"w{i}"))
        assert sum(attempt is not None for attempt in attempts) == 1
    finally:
        for engine in engines:
            engine.dispose()


def test_finish_records_the_result_once(store: OperationsStore) -> None:
    op = store.create("training", "demo", "name: demo", {})
    assert store.mark_running(op.id, "w1")
    assert ops.progress(store, op.id, "w1", Progress(percent=40, message="epoch 2"))
    assert not ops.finish(store, op.id, "w2", "completed", {"x": 1}, None)  # not its operation
    result = {"model_id": "m1", "metrics": {"accuracy": 0.5, "history": [1.0, 0.5]}}
    assert ops.finish(store, op.id, "w1", "completed", result, None)
    assert not ops.finish(store, op.id, "w1", "failed", None, "late")  # already terminal
    done = store.get(op.id)
    assert done.status == "completed"
    assert done.result == result
    assert done.progress.percent == 100.0
    assert done.started_at is not None
    assert done.completed_at is not None
    assert done.created_at <= done.started_at <= done.completed_at


def test_polled_reads_render_what_the_models_do_and_follow_writes(
    engine: Engine, store: OperationsStore
) -> None:
    """The rendered-rows cache keys on updated_at as PostgreSQL returns it (a datetime)."""
    other = OperationsStore(engine)  # a second backend on the same database
    ids = [store.create("training", f"s{i}", "name: s", {"i": i}).id for i in range(3)]
    assert store.mark_running(ids[0], "w1")

    def same() -> None:
        records, total = store.list(limit=2)
        page = OperationPage(operations=records, total=total, limit=2, offset=0)
        assert store.page_json(limit=2) == page.model_dump_json(by_alias=True)
        for op_id in ids:
            assert store.operation_json(op_id) == store.get(op_id).model_dump_json(by_alias=True)

    same()
    assert ops.finish(other, ids[0], "w1", "completed", {"metrics": {"sharpe": 1.0}}, None)
    other.cancel(ids[2], "stop")
    same()
    assert '"status":"completed"' in store.operation_json(ids[0])


def test_cancel_pending_and_running_but_not_terminal(store: OperationsStore) -> None:
    pending = store.create("training", "demo", "name: demo", {})
    running = store.create("backtesting", "demo", "name: demo", {})
    assert store.mark_running(running.id, "w1")
    assert store.cancel(pending.id).status == "cancelled"
    cancelled = store.cancel(running.id, "stop")
    assert cancelled.status == "cancelled"
    assert cancelled.error == "stop"
    assert cancelled.worker_id == "w1"  # kept, so the worker can be told to stop
    with pytest.raises(InvalidTransitionError, match="already cancelled"):
        store.cancel(pending.id)
    assert not ops.finish(store, running.id, "w1", "completed", {}, None)


def test_lost_worker_requeues_then_fails(store: OperationsStore) -> None:
    op = store.create("training", "demo", "name: demo", {})
    assert store.mark_running(op.id, "w1")
    requeued = store.fail_or_requeue(op.id, "worker lost", max_retries=1)
    assert (requeued.status, requeued.attempts, requeued.worker_id) == ("pending", 1, None)
    assert store.mark_running(op.id, "w2")
    failed = store.fail_or_requeue(op.id, "worker lost again", max_retries=1)
    assert (failed.status, failed.error) == ("failed", "worker lost again")


def test_list_with_filters_and_counts(store: OperationsStore) -> None:
    training = [store.create("training", "t", "name: t", {}).id for _ in range(3)]
    backtests = [store.create("backtesting", "b", "name: b", {}).id for _ in range(2)]
    assert store.mark_running(training[0], "w1")
    assert store.mark_running(backtests[1], "w2")
    store.cancel(training[1])

    def ids(**filters: object) -> tuple[list[str], int]:
        items, total = store.list(**filters)  # type: ignore[arg-type]
        return [op.id for op in items], total

    assert ids() == ([*backtests[::-1], *training[::-1]], 5)
    assert ids(op_type="training") == (training[::-1], 3)
    assert ids(status="running") == ([backtests[1], training[0]], 2)
    assert ids(status="running", op_type="training") == ([training[0]], 1)
    assert ids(status="cancelled") == ([training[1]], 1)
    assert ids(status="pending", limit=1) == ([backtests[0]], 2)
    assert ids(limit=2, offset=4) == ([training[0]], 5)
    assert ids(status="completed") == ([], 0)
    assert store.counts_by_status() == {
        "pending": 2,
        "running": 2,
        "completed": 0,
        "failed": 0,
        "cancelled": 1,
    }


def test_timestamps_come_back_tz_aware_utc_whatever_the_session_time_zone(
    database_url: str,
) -> None:
    # A server whose sessions default to another zone: values still round-trip as UTC.
    setup = create_database_engine(database_url)
    with setup.begin() as conn:
        database = make_url(database_url).database
        conn.execute(text(f"ALTER DATABASE {database} SET timezone TO 'Asia/Kolkata'"))
    setup.dispose()
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW timezone")).scalar_one() == "Asia/Kolkata"
        upgrade_to_head(engine)
        store = OperationsStore(engine)
        before = datetime.now(UTC)
        op = store.create("training", "demo", "name: demo", {})
        assert store.mark_running(op.id, "w1")
        assert ops.finish(store, op.id, "w1", "failed", None, "boom")
        after = datetime.now(UTC)
        read = store.get(op.id)
        for stamp in (read.created_at, read.started_at, read.completed_at, read.updated_at):
            assert stamp is not None
            assert stamp.tzinfo is UTC
            assert before - timedelta(seconds=1) <= stamp <= after + timedelta(seconds=1)
        assert read.created_at == op.created_at  # microseconds survive
        listed, _ = store.list()
        assert listed[0].completed_at == read.completed_at
        assert read.model_dump(mode="json")["created_at"].endswith("Z")
    finally:
        engine.dispose()


# -- the backend process ----------------------------------------------------------------


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[Stack]:
    # A plain postgresql:// URL, as a user would paste it.
    plain = database_url.replace("postgresql+psycopg://", "postgresql://")
    running = Stack(home=tmp_path / "home", env_overrides={"KTRDR_DATABASE_URL": plain})
    yield running
    running.stop_all()


def test_backend_on_postgresql_keeps_the_queue_across_a_restart_and_completes_it(
    stack: Stack, database_url: str
) -> None:
    stack.start_backend()
    health = stack.get("/health")
    assert health["database"] == "ok"
    assert health["status"] == "ok"

    stack.put_strategy("canary_smoke", canary_strategy("canary_smoke"))
    op_id = stack.post("/trainings/start", {"strategy_name": "canary_smoke"})["operation_id"]
    assert stack.operation(op_id)["status"] == "pending"  # no worker yet

    assert stack.stop("backend") in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM
    stack.start_backend()
    assert stack.get("/health")["database"] == "ok"
    queued = stack.operation(op_id)
    assert queued["status"] == "pending"
    assert queued["strategy_name"] == "canary_smoke"
    assert [op["id"] for op in stack.get("/operations?status=pending")["operations"]] == [op_id]

    stack.start_worker("trainer", "training")
    stack.wait_for_workers(training=1)
    done = stack.wait_status(op_id, "completed", "failed", "cancelled", timeout_s=180)
    assert done["status"] == "completed", done["error"]
    assert done["worker_id"] == "trainer"
    assert done["result"]["model_id"]

    # It really lived in PostgreSQL: the row is there, and no SQLite file was made.
    engine = create_database_engine(database_url)
    try:
        row = OperationsStore(engine).get(op_id)
    finally:
        engine.dispose()
    assert row.status == "completed"
    assert row.completed_at is not None
    assert row.completed_at.tzinfo is UTC
    assert not (stack.home / "data" / "ktrdr.db").exists()
    assert stack.get("/health")["operations"]["completed"] == 1


def test_a_sweep_keeps_its_study_in_the_ktrdr_database_on_postgresql(database_url: str) -> None:
    # Imported here: the other tests of this module need no compute stack.
    from ktrdr.compute.research.sweep import open_storage, study_name
    from tests.support.scripted_children import ScriptedChildren, driver

    assert upgrade_to_head(database_url) == head_revision()
    op_id = "e" * 32
    result = driver(database_url, ScriptedChildren(), op_id).run()
    assert result["counts"] == {"complete": 2, "pruned": 2, "fail": 0}
    engine = create_database_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"operations", "leases", "studies", "trials"} <= tables
        assert current_revision(engine) == head_revision()  # ktrdr's migrations unharmed
    finally:
        engine.dispose()
    assert upgrade_to_head(database_url) == head_revision()
    import optuna

    study = optuna.load_study(study_name=study_name(op_id), storage=open_storage(database_url))
    assert len(study.trials) == 4
