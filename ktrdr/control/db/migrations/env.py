"""Alembic environment for ktrdr.

The backend runs migrations in code (``ktrdr.control.db.migrate``) and hands its own connection in
``config.attributes["connection"]``; without one (the ``alembic`` command line), the URL
comes from ``sqlalchemy.url`` or else from the ktrdr settings.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from ktrdr.control.db.models import Base

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from ktrdr.core.settings import get_settings  # only for command-line use

    return get_settings().database


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things: later migrations copy tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    from ktrdr.control.db.engine import create_database_engine

    engine = create_database_engine(_database_url())
    try:
        with engine.connect() as connection:
            _configure_and_run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
