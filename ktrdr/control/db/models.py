"""ORM tables. The schema itself is created by the migrations in ``ktrdr/control/db/migrations``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zones: values are stored converted to UTC and read back with UTC
    attached, so callers never see a naive datetime.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def new_operation_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    pass


class OperationRow(Base):
    __tablename__ = "operations"
    __table_args__ = (
        Index("ix_operations_status_created_at", "status", "created_at"),
        Index("ix_operations_created_at_id", "created_at", "id"),  # the newest-first page
        Index("ix_operations_parent_id", "parent_id"),
        Index("uq_operations_parent_child_key", "parent_id", "child_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_operation_id)
    type: Mapped[str] = mapped_column(String(16))  # training, backtesting, walkforward, sweep
    status: Mapped[str] = mapped_column(String(16), index=True)
    strategy_name: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # {percent, message, items_done, items_total, details}
    progress: Mapped[dict[str, Any]] = mapped_column(JSON)
    worker_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The dispatch in force (see ktrdr.core.protocol): reports with another are refused.
    attempt_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # A child's parent (walk-forward, sweep) and its unique name within it.
    parent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    child_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Bulky columns last: SQLite reaches a column only through those before it, and a
    # backtest's result spills over several pages (migration 0004).
    strategy_yaml: Mapped[str] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class LeaseRow(Base):
    """A lease held by one backend until ``expires_at`` (see orchestration.lease)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
