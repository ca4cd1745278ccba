"""Bring the database schema to the newest migration, in code (no alembic.ini needed).

Safe on every backend start: a database already at head is left untouched, and processes
starting together are serialised (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory
lock). Should another process still win a race, the loser re-checks and accepts a database
that is now at head.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from ktrdr.control.db.engine import create_database_engine, for_writes

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Arbitrary, fixed key for pg_advisory_xact_lock: "ktrdr" in ASCII.
_PG_MIGRATION_LOCK_KEY = 0x6B74726472
_ATTEMPTS = 5
# alembic's ``context``/``op`` proxies are module-global: one migration per process at a time.
_ALEMBIC_LOCK = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic Config for the packaged migrations, optionally bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine_or_url: Engine | str) -> str:
    """Apply every pending migration and return the head revision."""
    if isinstance(engine_or_url, str):
        engine = create_database_engine(engine_or_url)
        try:
            return _upgrade(engine)
        finally:
            engine.dispose()
    return _upgrade(engine_or_url)


def _upgrade(engine: Engine) -> str:
    head = head_revision()
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            if current_revision(engine) == head:
                return head
            with _ALEMBIC_LOCK:
                _upgrade_once(engine)
            break
        except DBAPIError:
            # Typically a concurrent start that applied the migration first ("table
            # already exists") or held the lock past the busy timeout: look again.
            if attempt == _ATTEMPTS:
                raise
            time.sleep(0.1 * attempt)
    revision = current_revision(engine)
    if revision != head:
        raise RuntimeError(f"database is at revision {revision!r} after upgrade, not {head!r}")
    return head


def _upgrade_once(engine: Engine) -> None:
    # One transaction for the whole upgrade: DDL is transactional on SQLite (we emit BEGIN
    # ourselves) and PostgreSQL, so a failure leaves the schema as it was.
    with for_writes(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK_KEY})")
        command.upgrade(alembic_config(connection), "head")
