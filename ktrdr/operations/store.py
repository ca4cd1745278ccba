"""Operations: their persistence and state machine.

    pending --mark_running--> running --finish--> completed | failed | cancelled
       ^                        |  |
       +----revert_to_pending---+  +--fail_or_requeue--> pending (retry) | failed
    pending | running --cancel--> cancelled

Every transition is a conditional ``UPDATE ... WHERE status = <expected>`` inside a short
write transaction, so of two concurrent callers exactly one wins; the store holds no state
of its own beyond the engine and is safe to share between threads.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, Row, func, insert, select, update

from ktrdr.db.engine import for_writes
from ktrdr.db.models import OperationRow, new_operation_id
from ktrdr.protocol import TERMINAL_STATUSES

OPERATION_TYPES: frozenset[str] = frozenset({"training", "backtesting"})
STATUSES: tuple[str, ...] = ("pending", "running", "completed", "failed", "cancelled")
ACTIVE_STATUSES: frozenset[str] = frozenset({"pending", "running"})
PROGRESS_KEYS: tuple[str, ...] = ("percent", "message", "items_done", "items_total", "details")
_MAX_STRATEGY_NAME = 64
_MAX_WORKER_ID = 128

_table = OperationRow.__table__
# Everything but the strategy YAML, which only dispatch needs (see strategy_yaml()).
_RECORD_COLUMNS = [c for c in _table.c if c.name != "strategy_yaml"]


class OperationNotFoundError(LookupError):
    """No operation has this id."""


class InvalidTransitionError(ValueError):
    """The operation's current status does not allow the requested action."""


@dataclass(frozen=True)
class OperationRecord:
    id: str
    type: str
    status: str
    strategy_name: str
    params: dict[str, Any]
    progress: dict[str, Any]
    worker_id: str | None
    error: str | None
    result: dict[str, Any] | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def to_api(self, include_result: bool = True) -> dict[str, Any]:
        """The JSON shape served by the API; without ``result`` when not included."""
        data: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "status": self.status,
            "strategy_name": self.strategy_name,
            "params": dict(self.params),
            "progress": {key: self.progress.get(key) for key in PROGRESS_KEYS},
            "worker_id": self.worker_id,
            "error": self.error,
            "result": self.result,
            "attempts": self.attempts,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "completed_at": _iso(self.completed_at),
        }
        if not include_result:
            del data["result"]  # lists leave out results, which can be large
        return data


class OperationsStore:
    """Operations in the database; every method is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = for_writes(engine)
        self._clock_lock = threading.Lock()
        self._last_now = datetime.min.replace(tzinfo=UTC)

    # -- creation and reads -------------------------------------------------------------

    def create(
        self, op_type: str, strategy_name: str, strategy_yaml: str, params: dict[str, Any]
    ) -> OperationRecord:
        """A new pending operation, queued behind every earlier one."""
        if op_type not in OPERATION_TYPES:
            raise ValueError(
                f"unknown operation type {op_type!r}: use one of {_names(OPERATION_TYPES)}"
            )
        if not strategy_name or len(strategy_name) > _MAX_STRATEGY_NAME:
            raise ValueError(f"strategy name must be 1-{_MAX_STRATEGY_NAME} characters")
        if not isinstance(params, Mapping):
            raise TypeError("params must be a mapping")
        now = self._now()
        op_id = new_operation_id()
        with self._writer.begin() as conn:
            conn.execute(
                insert(_table).values(
                    id=op_id,
                    type=op_type,
                    status="pending",
                    strategy_name=strategy_name,
                    strategy_yaml=strategy_yaml,
                    params=dict(params),
                    progress=_progress(message="queued"),
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            return _record(_fetch(conn, op_id))

    def get(self, op_id: str) -> OperationRecord:
        with self._engine.connect() as conn:
            return _record(_fetch(conn, op_id))

    def strategy_yaml(self, op_id: str) -> str:
        with self._engine.connect() as conn:
            text = conn.execute(
                select(_table.c.strategy_yaml).where(_table.c.id == op_id)
            ).scalar_one_or_none()
        if text is None:
            raise OperationNotFoundError(op_id)
        return text

    def list(
        self,
        status: str | None = None,
        op_type: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[OperationRecord], int]:
        """One page of operations, newest first, and how many match in all."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
        if op_type is not None and op_type not in OPERATION_TYPES:
            raise ValueError(
                f"unknown operation type {op_type!r}: use one of {_names(OPERATION_TYPES)}"
            )
        if limit < 1 or offset < 0:
            raise ValueError("limit must be at least 1 and offset at least 0")
        conditions = []
        if status is not None:
            conditions.append(_table.c.status == status)
        if op_type is not None:
            conditions.append(_table.c.type == op_type)
        page = (
            select(*_RECORD_COLUMNS)
            .where(*conditions)
            .order_by(_table.c.created_at.desc(), _table.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        count = select(func.count()).select_from(_table).where(*conditions)
        # One REPEATABLE READ transaction (SQLite's transactions already are): the page and
        # the total come from the same snapshot, also on PostgreSQL.
        engine = self._engine
        if engine.dialect.name == "postgresql":
            engine = engine.execution_options(isolation_level="REPEATABLE READ")
        with engine.begin() as conn:
            total = conn.execute(count).scalar_one()
            rows = conn.execute(page).all()
        return [_record(row) for row in rows], total

    def pending(self, limit: int = 100) -> list[OperationRecord]:
        """Pending operations, oldest first (the dispatch order)."""
        query = (
            select(*_RECORD_COLUMNS)
            .where(_table.c.status == "pending")
            .order_by(_table.c.created_at, _table.c.id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query).all()]

    def running(self) -> list[OperationRecord]:
        query = (
            select(*_RECORD_COLUMNS)
            .where(_table.c.status == "running")
            .order_by(_table.c.started_at, _table.c.id)
        )
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query).all()]

    def counts_by_status(self) -> dict[str, int]:
        """How many operations are in each status (every status present, zero included)."""
        query = select(_table.c.status, func.count()).group_by(_table.c.status)
        counts = dict.fromkeys(STATUSES, 0)
        with self._engine.connect() as conn:
            for status, count in conn.execute(query).all():
                counts[status] = count
        return counts

    # -- transitions --------------------------------------------------------------------

    def mark_running(self, op_id: str, worker_id: str) -> bool:
        """pending -> running on ``worker_id``; False if it was not pending (someone won)."""
        _check_worker_id(worker_id)
        now = self._now()
        with self._writer.begin() as conn:
            row = _fetch_or_none(conn, op_id)
            if row is None or row.status != "pending":
                return False
            progress = {**_progress_of(row), "message": f"running on {worker_id}"}
            return _won(
                conn.execute(
                    update(_table)
                    .where(_table.c.id == op_id, _table.c.status == "pending")
                    .values(
                        status="running",
                        worker_id=worker_id,
                        started_at=now,
                        updated_at=now,
                        progress=progress,
                    )
                )
            )

    def revert_to_pending(self, op_id: str, worker_id: str) -> bool:
        """Undo mark_running when the worker never accepted the job; attempts unchanged."""
        now = self._now()
        with self._writer.begin() as conn:
            row = _fetch_or_none(conn, op_id)
            if row is None or row.status != "running" or row.worker_id != worker_id:
                return False
            progress = {**_progress_of(row), "message": "queued"}
            return _won(
                conn.execute(
                    update(_table)
                    .where(*_running_on(op_id, worker_id))
                    .values(
                        status="pending",
                        worker_id=None,
                        started_at=None,
                        updated_at=now,
                        progress=progress,
                    )
                )
            )

    def update_progress(self, op_id: str, worker_id: str, progress: Mapping[str, Any]) -> bool:
        """Record a progress report; False unless the op is running on ``worker_id``.

        Missing keys keep their previous value; ``percent`` never goes down (reports can
        arrive out of order).
        """
        now = self._now()
        with self._writer.begin() as conn:
            row = _fetch_or_none(conn, op_id)
            if row is None or row.status != "running" or row.worker_id != worker_id:
                return False
            merged = _merge_progress(_progress_of(row), progress)
            return _won(
                conn.execute(
                    update(_table)
                    .where(*_running_on(op_id, worker_id))
                    .values(progress=merged, updated_at=now)
                )
            )

    def finish(
        self,
        op_id: str,
        worker_id: str,
        status: str,
        result: dict[str, Any] | None,
        error: str | None,
    ) -> bool:
        """running on ``worker_id`` -> ``status``; False (no change) for any other state."""
        if status not in TERMINAL_STATUSES:
            raise ValueError(f"finish needs a terminal status, not {status!r}")
        now = self._now()
        with self._writer.begin() as conn:
            row = _fetch_or_none(conn, op_id)
            if row is None or row.status != "running" or row.worker_id != worker_id:
                return False
            progress = {**_progress_of(row), "message": status}
            if status == "completed":
                progress["percent"] = 100.0
            return _won(
                conn.execute(
                    update(_table)
                    .where(*_running_on(op_id, worker_id))
                    .values(
                        status=status,
                        result=result,
                        error=error,
                        completed_at=now,
                        updated_at=now,
                        progress=progress,
                    )
                )
            )

    def cancel(self, op_id: str, reason: str = "cancelled by user") -> OperationRecord:
        """pending | running -> cancelled. The worker id is kept so it can be told to stop."""
        now = self._now()
        with self._writer.begin() as conn:
            row = _fetch(conn, op_id)
            if row.status in TERMINAL_STATUSES:
                raise InvalidTransitionError(
                    f"cannot cancel operation {op_id}: it is already {row.status}"
                )
            progress = {**_progress_of(row), "message": "cancelled"}
            outcome = conn.execute(
                update(_table)
                .where(_table.c.id == op_id, _table.c.status.in_(ACTIVE_STATUSES))
                .values(
                    status="cancelled",
                    error=reason,
                    completed_at=now,
                    updated_at=now,
                    progress=progress,
                )
            )
            latest = _fetch(conn, op_id)
            if not _won(outcome):
                raise InvalidTransitionError(
                    f"cannot cancel operation {op_id}: it is already {latest.status}"
                )
            return _record(latest)

    def fail_or_requeue(
        self, op_id: str, reason: str, max_retries: int, *, worker_id: str | None = None
    ) -> OperationRecord:
        """A running op whose worker was lost: back to pending while retries remain, else failed.

        With ``worker_id``, only an op still on that worker is touched (it may have been
        re-dispatched meanwhile). Any other op is returned unchanged.
        """
        now = self._now()
        with self._writer.begin() as conn:
            row = _fetch(conn, op_id)
            if row.status != "running" or (worker_id is not None and row.worker_id != worker_id):
                return _record(row)
            if row.attempts < max_retries:
                values: dict[str, Any] = {
                    "status": "pending",
                    "attempts": _table.c.attempts + 1,
                    "worker_id": None,
                    "started_at": None,
                    "progress": _progress(message=f"re-queued: {reason}"),
                }
            else:
                values = {
                    "status": "failed",
                    "error": reason,
                    "completed_at": now,
                    "progress": {**_progress_of(row), "message": "failed"},
                }
            conn.execute(
                update(_table)
                .where(*_running_on(op_id, row.worker_id))
                .values(updated_at=now, **values)
            )
            return _record(_fetch(conn, op_id))

    # -- helpers ------------------------------------------------------------------------

    def _now(self) -> datetime:
        # Strictly increasing, so that operations created in the same microsecond still
        # have a well-defined FIFO order.
        with self._clock_lock:
            now = datetime.now(UTC)
            if now <= self._last_now:
                now = self._last_now + timedelta(microseconds=1)
            self._last_now = now
            return now


def _progress(
    percent: float = 0.0,
    message: str = "",
    items_done: int = 0,
    items_total: int = 0,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "percent": float(percent),
        "message": message,
        "items_done": items_done,
        "items_total": items_total,
        "details": dict(details or {}),
    }


def _progress_of(row: Row[Any]) -> dict[str, Any]:
    stored = row.progress if isinstance(row.progress, dict) else {}
    return {**_progress(), **{k: stored[k] for k in PROGRESS_KEYS if k in stored}}


def _merge_progress(current: dict[str, Any], report: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    if report.get("percent") is not None:
        percent = min(max(float(report["percent"]), 0.0), 100.0)
        merged["percent"] = max(percent, float(current.get("percent") or 0.0))
    if report.get("message") is not None:
        merged["message"] = str(report["message"])
    for key in ("items_done", "items_total"):
        if report.get(key) is not None:
            merged[key] = int(report[key])
    if report.get("details") is not None:
        merged["details"] = dict(report["details"])
    return merged


def _running_on(op_id: str, worker_id: str | None) -> tuple[Any, ...]:
    return (
        _table.c.id == op_id,
        _table.c.status == "running",
        _table.c.worker_id == worker_id,
    )


def _won(outcome: CursorResult[Any]) -> bool:
    return bool(outcome.rowcount == 1)


def _fetch_or_none(conn: Connection, op_id: str) -> Row[Any] | None:
    return conn.execute(select(*_RECORD_COLUMNS).where(_table.c.id == op_id)).one_or_none()


def _fetch(conn: Connection, op_id: str) -> Row[Any]:
    row = _fetch_or_none(conn, op_id)
    if row is None:
        raise OperationNotFoundError(op_id)
    return row


def _record(row: Row[Any]) -> OperationRecord:
    return OperationRecord(
        id=row.id,
        type=row.type,
        status=row.status,
        strategy_name=row.strategy_name,
        params=dict(row.params or {}),
        progress=_progress_of(row),
        worker_id=row.worker_id,
        error=row.error,
        result=row.result,
        attempts=row.attempts,
        created_at=row.created_at,
        started_at=row.started_at,
        completed_at=row.completed_at,
        updated_at=row.updated_at,
    )


def _check_worker_id(worker_id: str) -> None:
    if not worker_id or len(worker_id) > _MAX_WORKER_ID:
        raise ValueError(f"worker id must be 1-{_MAX_WORKER_ID} characters")


def _names(values: frozenset[str]) -> str:
    return ", ".join(sorted(values))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
