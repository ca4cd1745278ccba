"""Engines: SQLite tuned for threads and processes, tz-aware timestamps, sessions."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ktrdr.control.db import create_database_engine, session_factory
from ktrdr.control.db.engine import DatabaseDriverMissingError, normalize_database_url
from ktrdr.control.db.migrate import upgrade_to_head
from ktrdr.control.db.models import OperationRow


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'ktrdr.db'}")
    yield engine
    engine.dispose()


def test_sqlite_creates_the_parent_directory(tmp_path: Path, engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert (tmp_path / "nested" / "dir" / "ktrdr.db").is_file()


def test_sqlite_pragmas(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def test_sqlite_engine_is_usable_from_another_thread(engine: Engine) -> None:
    import threading

    results: list[int] = []
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))  # the pooled connection is created in this thread

    def work() -> None:
        with engine.connect() as conn:
            results.append(conn.execute(text("SELECT 2")).scalar_one())

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert results == [2]


def test_sqlite_ddl_is_transactional(engine: Engine) -> None:
    # We emit BEGIN ourselves, so a rolled-back CREATE TABLE leaves nothing behind.
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE scratch (x INTEGER)"))
        conn.rollback()
    with engine.connect() as conn:
        tables = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")
        assert "scratch" not in tables.scalars().all()


def test_unsupported_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database backend"):
        create_database_engine("mysql://user@localhost/ktrdr")


def test_postgresql_engine_pings_before_use() -> None:
    engine = create_database_engine("postgresql+psycopg://user:pw@localhost:5432/ktrdr")
    assert engine.pool._pre_ping  # no connection is made
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:pw@db:5432/ktrdr", "postgresql+psycopg://u:***@db:5432/ktrdr"),
        ("postgres://u:pw@db/ktrdr", "postgresql+psycopg://u:***@db/ktrdr"),
        ("postgresql+psycopg://u@db/ktrdr", "postgresql+psycopg://u@db/ktrdr"),
        ("postgres+psycopg://u@db/ktrdr", "postgresql+psycopg://u@db/ktrdr"),
        ("postgresql+psycopg2://u@db/ktrdr", "postgresql+psycopg2://u@db/ktrdr"),
        ("sqlite:///data/ktrdr.db", "sqlite:///data/ktrdr.db"),
    ],
)
def test_plain_postgresql_urls_use_psycopg(url: str, expected: str) -> None:
    assert repr(normalize_database_url(url)) == expected


def test_a_plain_postgres_url_makes_a_psycopg_engine() -> None:
    engine = create_database_engine("postgres://user:pw@localhost:5432/ktrdr")
    assert engine.dialect.name == "postgresql"
    assert engine.dialect.driver == "psycopg"
    assert engine.url.password == "pw"  # kept, only hidden in repr
    engine.dispose()


def test_missing_postgresql_driver_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg -> ImportError
    with pytest.raises(DatabaseDriverMissingError, match=r"uv sync --extra postgres"):
        create_database_engine("postgresql://user@localhost/ktrdr")


def test_session_factory_round_trips_tz_aware_utc(engine: Engine) -> None:
    upgrade_to_head(engine)
    Session = session_factory(engine)  # noqa: N806 - a class-like factory
    paris = timezone(timedelta(hours=2))
    created = datetime(2025, 6, 1, 14, 30, tzinfo=paris)
    with Session.begin() as session:
        session.add(
            OperationRow(
                type="training",
                status="pending",
                strategy_name="s",
                strategy_yaml="name: s",
                params={},
                progress={},
                created_at=created,
                updated_at=created,
            )
        )
    with Session() as session:
        row = session.query(OperationRow).one()
        assert len(row.id) == 32
        assert row.attempts == 0
        assert row.created_at == created
        assert row.created_at.tzinfo is UTC
        assert row.created_at.hour == 12
        assert row.started_at is None


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    upgrade_to_head(engine)
    Session = session_factory(engine)  # noqa: N806
    naive = datetime(2025, 1, 1)  # the point of the test
    with pytest.raises(Exception, match="naive datetime"), Session.begin() as session:
        session.add(
            OperationRow(
                type="training",
                status="pending",
                strategy_name="s",
                strategy_yaml="",
                params={},
                progress={},
                created_at=naive,
                updated_at=naive,
            )
        )
