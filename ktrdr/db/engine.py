"""SQLAlchemy engines for the backend's database (SQLite by default, PostgreSQL optional).

SQLite is tuned for several threads and processes sharing one file: WAL (readers never
block the writer), a busy timeout (writers wait instead of failing), foreign keys on, and
explicit ``BEGIN`` so that DDL is transactional and write transactions can take the write
lock up front (``BEGIN IMMEDIATE``, see :func:`for_writes`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Execution option read by the SQLite "begin" hook: start with the write lock held.
WRITE_OPTION = "ktrdr_write_transaction"


def create_database_engine(url: str) -> Engine:
    """An engine for ``url``: ``sqlite:///path`` or ``postgresql[+driver]://...``."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _create_sqlite_engine(parsed)
    if backend == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    raise ValueError(f"unsupported database backend {backend!r} in {parsed!r}")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """ORM sessions bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def for_writes(engine: Engine) -> Engine:
    """The same engine, whose transactions take SQLite's write lock at ``BEGIN``.

    A deferred SQLite transaction that reads and then writes cannot wait for the lock
    (it fails with "database is locked" at once); taking it first makes the busy timeout
    apply and serialises read-modify-write transactions. No effect on other backends.
    """
    return engine.execution_options(**{WRITE_OPTION: True})


def _create_sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _on_sqlite_begin) instead of pysqlite's
    # implicit, DML-only transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching to WAL needs a lock another process may hold.
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, far fewer fsyncs
    finally:
        cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
