"""Migrations: applied in code, idempotent, race-safe, and identical to the ORM model."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from ktrdr.control.db import create_database_engine
from ktrdr.control.db.engine import for_writes
from ktrdr.control.db.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade_to_head,
)
from ktrdr.control.db.models import Base, OperationRow
from tests.support.together import run_together


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ktrdr.db'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_database_engine(db_url)
    yield engine
    engine.dispose()


def test_head_revision_is_the_newest_migration() -> None:
    assert head_revision() == "0004"


def test_empty_database_is_migrated_to_head(engine: Engine) -> None:
    assert current_revision(engine) is None
    assert upgrade_to_head(engine) == "0004"
    assert current_revision(engine) == "0004"
    assert {"operations", "alembic_version"} <= set(inspect(engine).get_table_names())


def test_upgrade_is_idempotent(engine: Engine) -> None:
    assert upgrade_to_head(engine) == "0004"
    assert upgrade_to_head(engine) == "0004"
    assert current_revision(engine) == "0004"


def test_upgrade_accepts_a_url(db_url: str, engine: Engine) -> None:
    assert upgrade_to_head(db_url) == "0004"
    assert current_revision(engine) == "0004"


def test_migration_matches_the_orm_model(engine: Engine) -> None:
    upgrade_to_head(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_migrated_columns_and_indexes_match_the_model(engine: Engine) -> None:
    upgrade_to_head(engine)
    inspector = inspect(engine)
    columns = {c["name"]: c for c in inspector.get_columns("operations")}
    model = OperationRow.__table__
    assert list(columns) == [c.name for c in model.columns]
    for column in model.columns:
        assert columns[column.name]["nullable"] == column.nullable, column.name
    assert inspector.get_pk_constraint("operations")["constrained_columns"] == ["id"]
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("operations")}
    assert indexes == {
        "ix_operations_status": ["status"],
        "ix_operations_status_created_at": ["status", "created_at"],
        "ix_operations_created_at_id": ["created_at", "id"],
        "ix_operations_parent_id": ["parent_id"],
        "uq_operations_parent_child_key": ["parent_id", "child_key"],
    }
    assert {i.name for i in model.indexes} == set(indexes)


def test_concurrent_upgrades_in_threads_all_succeed(db_url: str) -> None:
    engines = [create_database_engine(db_url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    results: list[str] = []
    errors: list[BaseException] = []

    def upgrade(engine: Engine) -> None:
        barrier.wait()
        try:
            results.append(upgrade_to_head(engine))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upgrade, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()
    assert errors == []
    assert results == ["0004"] * len(engines)


def test_two_processes_upgrading_at_once_both_succeed(db_url: str, tmp_path: Path) -> None:
    results = run_together(f"print(upgrade_to_head({db_url!r}))", 2, tmp_path)
    for result in results:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "0004"
    engine = create_database_engine(db_url)
    assert current_revision(engine) == "0004"
    engine.dispose()


def test_0004_keeps_every_row_and_puts_the_bulky_columns_last(engine: Engine) -> None:
    with for_writes(engine).begin() as connection:
        command.upgrade(alembic_config(connection), "0003")
    result = '{"metrics": {"total_return": 0.12}, "equity": [' + "1.5," * 5000 + "2]}"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO operations (id, type, status, strategy_name, strategy_yaml, params,"
                " progress, worker_id, error, result, attempts, created_at, started_at,"
                " completed_at, updated_at, attempt_token) VALUES ('op-1', 'backtesting',"
                " 'completed', 'canary', 'name: canary', '{}', '{\"percent\": 100.0}', 'w-1',"
                " NULL, :result, 1, '2026-12-01 10:00:00.000000', '2026-12-01 10:00:01.000000',"
                " '2026-12-01 10:00:02.000000', '2026-12-01 10:00:02.000000', :token)"
            ),
            {"result": result, "token": "a" * 32},
        )
        before = conn.execute(text("SELECT * FROM operations")).mappings().one()
    assert upgrade_to_head(engine) == "0004"
    with engine.connect() as conn:
        after = conn.execute(text("SELECT * FROM operations")).mappings().one()
        plan = conn.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT id FROM operations"
                " ORDER BY created_at DESC, id DESC LIMIT 50"
            )
        ).all()
    assert dict(after) == dict(before)  # every value kept
    assert list(after)[-2:] == ["strategy_yaml", "result"]
    # The newest-first page walks the index: no full scan, no sort of every row.
    assert "ix_operations_created_at_id" in " ".join(str(row) for row in plan)
