"""SQLAlchemy engines for the backend's database (SQLite by default, PostgreSQL optional).

SQLite is tuned for several threads and processes sharing one file: WAL (readers never
block the writer), a busy timeout (writers wait instead of failing), foreign keys on, and
explicit ``BEGIN`` so that DDL is transactional and write transactions can take the write
lock up front (``BEGIN IMMEDIATE``, see :func:`for_writes`).

PostgreSQL goes through psycopg 3 (the ``postgres`` extra). A plain ``postgresql://`` or
``postgres://`` URL, as pasted from a hosting provider, is read as ``postgresql+psycopg://``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Connections kept open to a SQLite file. SQLAlchemy's default (5) is below the requests a
# polled backend serves at once, and every connection past it is opened (with its PRAGMAs)
# and closed again per request: a fifth of the CPU of a polled backend went there.
SQLITE_POOL_SIZE = 24
# Execution option read by the SQLite "begin" hook: start with the write lock held.
WRITE_OPTION = "ktrdr_write_transaction"
# The PostgreSQL driver used when the URL names none (installed by the postgres extra).
POSTGRES_DRIVER = "psycopg"
_POSTGRES_SCHEMES = frozenset({"postgresql", "postgres"})


class DatabaseDriverMissingError(RuntimeError):
    """The database URL needs a driver that is not installed."""


def normalize_database_url(url: str | URL) -> URL:
    """``url`` parsed; ``postgres[ql]://`` (no or another spelling) -> ``postgresql+psycopg://``.

    SQLAlchemy knows neither the ``postgres`` scheme nor, without a driver name, that we
    use psycopg 3 (it would pick psycopg2). An explicit driver (``+asyncpg``...) is kept.
    """
    parsed = make_url(url)
    backend, _, driver = parsed.drivername.partition("+")
    if backend in _POSTGRES_SCHEMES:
        return parsed.set(drivername=f"postgresql+{driver or POSTGRES_DRIVER}")
    return parsed


def create_database_engine(url: str | URL) -> Engine:
    """An engine for ``url``: ``sqlite:///path`` or ``postgresql[+psycopg]://...``."""
    parsed = normalize_database_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _create_sqlite_engine(parsed)
    if backend == "postgresql":
        return _create_postgresql_engine(parsed)
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


def _create_postgresql_engine(url: URL) -> Engine:
    if url.get_driver_name() == POSTGRES_DRIVER:
        _require_psycopg()
    # pre-ping: a pooled connection the server closed (restart, idle timeout) is replaced
    # instead of failing the next request.
    return create_engine(url, pool_pre_ping=True)


def _require_psycopg() -> None:
    try:
        import psycopg  # noqa: F401  (imported here: only PostgreSQL users need it)
    except ImportError as error:
        raise DatabaseDriverMissingError(
            "KTRDR_DATABASE_URL points at PostgreSQL but the driver is not installed: "
            f"install the postgres extra (uv sync --extra postgres) [{error}]"
        ) from error


def _create_sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    in_memory = not database or database == ":memory:" or "mode=memory" in database
    # An in-memory database lives in one connection (SQLAlchemy's singleton pool).
    pool = {} if in_memory else {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_SIZE}
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        **pool,
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
