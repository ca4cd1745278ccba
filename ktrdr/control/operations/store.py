"""Operations: their persistence and state machine.

The store reads and writes :class:`ktrdr.core.api_models.Operation`, the same model the
API answers with.

    pending --mark_running--> running --finish--> completed | failed | cancelled
       ^                        |  |
       +----revert_to_pending---+  +--fail_or_requeue--> pending (retry) | failed
    pending | running --cancel--> cancelled

Every transition is a conditional ``UPDATE ... WHERE status = <expected>`` inside a short
write transaction, so of two concurrent callers exactly one wins; the store holds no state
of its own beyond the engine and a cache of rendered rows keyed by their version
(:mod:`.rendered`), and is safe to share between threads.

Fencing: ``mark_running`` gives the dispatch a fresh attempt token; a worker's progress
and finish count only with the token now in force. A worker that froze while its
operation was re-queued and given to another comes back with an old token: its reports
are refused as stale (``ReportOutcome.STALE``), however late they arrive.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple, TypedDict, Unpack

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Engine,
    Row,
    Select,
    String,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError

from ktrdr.control.db.engine import for_writes
from ktrdr.control.db.models import OperationRow, new_operation_id
from ktrdr.control.operations.rendered import RenderedCache
from ktrdr.core.api_models import Operation, OperationPage, OperationSummary
from ktrdr.core.enums import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    OperationStatus,
    OperationType,
)
from ktrdr.core.errors import ConflictError, InvalidInputError, NotFoundError
from ktrdr.core.progress import Progress

_MAX_STRATEGY_NAME = 64
_MAX_WORKER_ID = 128

_table = OperationRow.__table__
# Everything but the strategy YAML, which only dispatch needs (see strategy_yaml()).
_RECORD_COLUMNS = [c for c in _table.c if c.name != "strategy_yaml"]
# Lists leave out the result too: a backtest's is tens of kilobytes to decode per row.
_SUMMARY_COLUMNS = [c for c in _RECORD_COLUMNS if c.name != "result"]
# A row's version, as stored: every write sets updated_at (see .rendered). Read without
# the datetime conversion, which only costs time for a value used as a key.
_VERSION = type_coerce(_table.c.updated_at, String).label("version")
_NO_OPERATIONS = '"operations":[]'


class OperationNotFoundError(NotFoundError):
    """No operation has this id."""

    def __init__(self, op_id: str) -> None:
        super().__init__(f"no operation {op_id[:64]!r}", field="operation_id")


class InvalidTransitionError(ConflictError):
    """The operation's current status does not allow the requested action."""


class ReportOutcome(StrEnum):
    """What became of a worker's progress or finish report."""

    ACCEPTED = "accepted"
    CANCELLED = "cancelled"  # its own attempt, cancelled meanwhile: nothing to record
    STALE = "stale"  # not the attempt in force (re-queued, given to another, or ended)


def new_attempt_token() -> str:
    return uuid.uuid4().hex


class OperationsStore:
    """Operations in the database; every method is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = for_writes(engine)
        self._clock_lock = threading.Lock()
        self._last_now = datetime.min.replace(tzinfo=UTC)
        self._rendered = RenderedCache()

    # -- creation and reads -------------------------------------------------------------

    def create(
        self,
        op_type: str,
        strategy_name: str,
        strategy_yaml: str,
        params: dict[str, Any],
        *,
        parent_id: str | None = None,
        child_key: str | None = None,
    ) -> Operation:
        """A new pending operation, queued behind every earlier one."""
        op_type = _member(OperationType, op_type, "type")
        if (parent_id is None) != (child_key is None):
            raise InvalidInputError("a child needs both its parent and its key", field="key")
        if not strategy_name or len(strategy_name) > _MAX_STRATEGY_NAME:
            raise InvalidInputError(
                f"strategy name must be 1-{_MAX_STRATEGY_NAME} characters", field="strategy_name"
            )
        if not isinstance(params, Mapping):
            raise TypeError("params must be a mapping")
        now = self._now()
        op_id = new_operation_id()
        with self._writer.begin() as conn:
            conn.execute(
                insert(_table).values(
                    id=op_id,
                    type=op_type,
                    status=OperationStatus.PENDING,
                    strategy_name=strategy_name,
                    strategy_yaml=strategy_yaml,
                    params=dict(params),
                    progress=_progress(message="queued"),
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                    parent_id=parent_id,
                    child_key=child_key,
                )
            )
            return _record(_fetch(conn, op_id))

    # -- parents and children -----------------------------------------------------------

    def create_child(
        self,
        parent_id: str,
        key: str,
        op_type: str,
        strategy_name: str,
        strategy_yaml: str,
        params: dict[str, Any],
        max_children: int,
    ) -> tuple[Operation, bool]:
        """The child ``key`` of a running parent: created, or the one already there.

        Idempotent per (parent, key), so a driver re-queued after its worker was lost
        re-attaches to the children it had created. ``max_children`` bounds a parent.
        Returns (child, created).
        """
        existing = self.child(parent_id, key)
        if existing is not None:
            return existing, False
        parent = self.get(parent_id)
        if parent.status != OperationStatus.RUNNING:
            raise InvalidTransitionError(
                f"operation {parent_id} is {parent.status}: it takes no new children",
                field="operation_id",
            )
        if self.child_counts(parent_id)[1] >= max_children:
            raise InvalidInputError(
                f"operation {parent_id} has its {max_children} children already",
                field="key",
            )
        try:
            created = self.create(
                op_type, strategy_name, strategy_yaml, params, parent_id=parent_id, child_key=key
            )
        except IntegrityError:  # the same key, created concurrently: that one stands
            found = self.child(parent_id, key)
            if found is None:
                raise
            return found, False
        return created, True

    def child(self, parent_id: str, key: str) -> Operation | None:
        query = select(*_RECORD_COLUMNS).where(
            _table.c.parent_id == parent_id, _table.c.child_key == key
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        return None if row is None else _record(row)

    def children(self, parent_id: str) -> list[OperationSummary]:
        """A parent's children, oldest first (bounded by the parent's max_children)."""
        query = (
            select(*_SUMMARY_COLUMNS)
            .where(_table.c.parent_id == parent_id)
            .order_by(_table.c.created_at, _table.c.id)
        )
        with self._engine.connect() as conn:
            return [_summary(row) for row in conn.execute(query).all()]

    def child_counts(self, parent_id: str) -> tuple[dict[OperationStatus, int], int]:
        """How many children are in each status (zeros included), and how many in all."""
        query = (
            select(_table.c.status, func.count())
            .where(_table.c.parent_id == parent_id)
            .group_by(_table.c.status)
        )
        counts = dict.fromkeys(OperationStatus, 0)
        with self._engine.connect() as conn:
            for status, count in conn.execute(query).all():
                counts[OperationStatus(status)] = count
        return counts, sum(counts.values())

    def cancel_children(self, parent_id: str, reason: str) -> list[OperationSummary]:
        """Cancel every pending or running child; returns those cancelled (as they were)."""
        cancelled = []
        for child in self.children(parent_id):
            if child.status not in ACTIVE_STATUSES:
                continue
            try:
                self.cancel(child.id, reason)
            except InvalidTransitionError:
                continue  # it ended meanwhile
            cancelled.append(child)
        return cancelled

    def get(self, op_id: str) -> Operation:
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

    def list(self, **query: Unpack[PageQuery]) -> tuple[list[OperationSummary], int]:
        """One page of operations, newest first, and how many match in all."""
        page = _PageSql.of(query, _SUMMARY_COLUMNS)
        with self._snapshot() as conn:
            total = conn.execute(page.count).scalar_one()
            rows = conn.execute(page.rows).all()
        return [_summary(row) for row in rows], total

    def page_json(self, **query: Unpack[PageQuery]) -> str:
        """``list()`` as the JSON of an :class:`OperationPage`, for polling.

        The page reads only ids and versions; rows unchanged since they were last
        rendered are not read or rendered again (see :mod:`.rendered`).
        """
        page = _PageSql.of(query, [_table.c.id, _VERSION])
        with self._snapshot() as conn:
            total = conn.execute(page.count).scalar_one()
            versions = conn.execute(page.rows)
            texts = {op_id: self._rendered.get(("summary", op_id), v) for op_id, v in versions}
            missing = [op_id for op_id, text in texts.items() if text is None]
            if missing:
                query_missing = select(*_SUMMARY_COLUMNS, _VERSION).where(_table.c.id.in_(missing))
                for row in conn.execute(query_missing):
                    texts[row.id] = self._render(("summary", row.id), row, _summary(row))
        frame = OperationPage(operations=[], total=total, limit=page.limit, offset=page.offset)
        rows = ",".join(texts[op_id] for op_id in texts)
        body = f'"operations":[{rows}]'
        return frame.model_dump_json(by_alias=True).replace(_NO_OPERATIONS, body, 1)

    def operation_json(self, op_id: str) -> str:
        """``get()`` as JSON, for polling: rendered again only once the row has changed."""
        key = ("record", op_id)
        with self._engine.connect() as conn:
            version = conn.execute(select(_VERSION).where(_table.c.id == op_id)).scalar()
            if version is None:
                raise OperationNotFoundError(op_id)
            text = self._rendered.get(key, version)
            if text is None:
                row = conn.execute(
                    select(*_RECORD_COLUMNS, _VERSION).where(_table.c.id == op_id)
                ).one()
                text = self._render(key, row, _record(row))
        return text

    def _render(self, key: tuple[str, str], row: Row[Any], model: OperationSummary) -> str:
        text = model.model_dump_json(by_alias=True)
        self._rendered.put(key, row.version, text)
        return text

    def _snapshot(self) -> AbstractContextManager[Connection]:
        """One REPEATABLE READ transaction (SQLite's transactions already are), so that a
        page and its total come from the same snapshot, also on PostgreSQL."""
        engine = self._engine
        if engine.dialect.name == "postgresql":
            engine = engine.execution_options(isolation_level="REPEATABLE READ")
        return engine.begin()

    def pending(self, limit: int = 100) -> list[OperationSummary]:
        """Pending operations, oldest first (the dispatch order)."""
        query = (
            select(*_SUMMARY_COLUMNS)
            .where(_table.c.status == OperationStatus.PENDING)
            .order_by(_table.c.created_at, _table.c.id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [_summary(row) for row in conn.execute(query).all()]

    def running(self) -> list[OperationSummary]:
        query = (
            select(*_SUMMARY_COLUMNS)
            .where(_table.c.status == OperationStatus.RUNNING)
            .order_by(_table.c.started_at, _table.c.id)
        )
        with self._engine.connect() as conn:
            return [_summary(row) for row in conn.execute(query).all()]

    def counts_by_status(self) -> dict[OperationStatus, int]:
        """How many operations are in each status (every status present, zero included)."""
        query = select(_table.c.status, func.count()).group_by(_table.c.status)
        counts = dict.fromkeys(OperationStatus, 0)
        with self._engine.connect() as conn:
            for status, count in conn.execute(query).all():
                counts[OperationStatus(status)] = count
        return counts

    # -- transitions --------------------------------------------------------------------

    def mark_running(self, op_id: str, worker_id: str) -> str | None:
        """pending -> running on ``worker_id``; the new attempt token, None if someone won."""
        _check_worker_id(worker_id)
        now = self._now()
        attempt = new_attempt_token()
        with self._writer.begin() as conn:
            row = _fetch_or_none(conn, op_id)
            if row is None or row.status != OperationStatus.PENDING:
                return None
            progress = _with(_progress_of(row), message=f"running on {worker_id}")
            won = _transition(
                conn,
                (_table.c.id == op_id, _table.c.status == OperationStatus.PENDING),
                now,
                status=OperationStatus.RUNNING,
                worker_id=worker_id,
                attempt_token=attempt,
                started_at=now,
                progress=progress,
            )
            return attempt if won else None

    def attempt_of(self, op_id: str) -> str | None:
        """The attempt token in force (None unless the operation was ever dispatched)."""
        with self._engine.connect() as conn:
            found = conn.execute(
                select(_table.c.id, _table.c.attempt_token).where(_table.c.id == op_id)
            ).one_or_none()
        if found is None:
            raise OperationNotFoundError(op_id)
        return found.attempt_token

    def revert_to_pending(self, op_id: str, worker_id: str, attempt: str) -> bool:
        """Undo mark_running when the worker never accepted the job; attempts unchanged."""
        return (
            self._change_running(
                op_id,
                worker_id,
                attempt,
                lambda row, now: {
                    "status": OperationStatus.PENDING,
                    "worker_id": None,
                    "attempt_token": None,
                    "started_at": None,
                    "progress": _with(_progress_of(row), message="queued"),
                },
            )
            == ReportOutcome.ACCEPTED
        )

    def update_progress(
        self, op_id: str, worker_id: str, attempt: str, progress: Progress
    ) -> ReportOutcome:
        """Record a progress report of the attempt in force on ``worker_id``.

        ``percent`` never goes down (reports can arrive out of order).
        """
        return self._change_running(
            op_id,
            worker_id,
            attempt,
            lambda row, now: {
                "progress": progress.merged_into(_progress_of(row)).model_dump(mode="json")
            },
        )

    def finish(
        self,
        op_id: str,
        worker_id: str,
        attempt: str,
        status: str,
        result: dict[str, Any] | None,
        error: str | None,
    ) -> ReportOutcome:
        """running on ``worker_id`` with ``attempt`` -> ``status``; otherwise no change."""
        if status not in TERMINAL_STATUSES:
            raise InvalidInputError(f"finish needs a terminal status, not {status!r}")

        def values(row: Row[Any], now: datetime) -> dict[str, Any]:
            progress = _with(_progress_of(row), message=status)
            if status == OperationStatus.COMPLETED:
                progress["percent"] = 100.0
            return {
                "status": status,
                "result": result,
                "error": error,
                "completed_at": now,
                "progress": progress,
            }

        return self._change_running(op_id, worker_id, attempt, values)

    def _change_running(
        self,
        op_id: str,
        worker_id: str,
        attempt: str,
        values: Callable[[Row[Any], datetime], dict[str, Any]],
    ) -> ReportOutcome:
        """One update of an operation running ``attempt`` on ``worker_id``.

        The ``WHERE`` repeats the check, so of two concurrent callers exactly one wins.
        OperationNotFoundError for an unknown id.
        """
        now = self._now()
        with self._writer.begin() as conn:
            row = _fetch(conn, op_id)
            if row.attempt_token != attempt or row.worker_id != worker_id:
                return ReportOutcome.STALE
            if row.status == OperationStatus.CANCELLED:
                return ReportOutcome.CANCELLED
            if row.status != OperationStatus.RUNNING:
                return ReportOutcome.STALE
            won = _transition(
                conn,
                (*_running_on(op_id, worker_id), _table.c.attempt_token == attempt),
                now,
                **values(row, now),
            )
            return ReportOutcome.ACCEPTED if won else ReportOutcome.STALE

    def cancel(self, op_id: str, reason: str = "cancelled by user") -> Operation:
        """pending | running -> cancelled. The worker id is kept so it can be told to stop."""
        now = self._now()
        with self._writer.begin() as conn:
            row = _fetch(conn, op_id)
            if row.status in TERMINAL_STATUSES:
                raise InvalidTransitionError(
                    f"cannot cancel operation {op_id}: it is already {row.status}"
                )
            progress = _with(_progress_of(row), message="cancelled")
            won = _transition(
                conn,
                (_table.c.id == op_id, _table.c.status.in_(ACTIVE_STATUSES)),
                now,
                status=OperationStatus.CANCELLED,
                error=reason,
                completed_at=now,
                progress=progress,
            )
            latest = _fetch(conn, op_id)
            if not won:
                raise InvalidTransitionError(
                    f"cannot cancel operation {op_id}: it is already {latest.status}"
                )
            return _record(latest)

    def fail_or_requeue(
        self, op_id: str, reason: str, max_retries: int, *, worker_id: str | None = None
    ) -> Operation:
        """A running op whose worker was lost: back to pending while retries remain, else failed.

        With ``worker_id``, only an op still on that worker is touched (it may have been
        re-dispatched meanwhile). Any other op is returned unchanged.
        """
        now = self._now()
        with self._writer.begin() as conn:
            row = _fetch(conn, op_id)
            if row.status != OperationStatus.RUNNING or (
                worker_id is not None and row.worker_id != worker_id
            ):
                return _record(row)
            if row.attempts < max_retries:
                values: dict[str, Any] = {
                    "status": OperationStatus.PENDING,
                    "attempts": _table.c.attempts + 1,
                    "worker_id": None,
                    "attempt_token": None,  # whatever the lost worker still sends is stale
                    "started_at": None,
                    "progress": _progress(message=f"re-queued: {reason}"),
                }
            else:
                values = {
                    "status": OperationStatus.FAILED,
                    "error": reason,
                    "completed_at": now,
                    "progress": _with(_progress_of(row), message="failed"),
                }
            _transition(conn, _running_on(op_id, row.worker_id), now, **values)
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


def _progress(message: str = "") -> dict[str, Any]:
    return Progress(message=message).model_dump(mode="json")


def _progress_of(row: Row[Any]) -> Progress:
    stored = row.progress if isinstance(row.progress, dict) else {}
    try:
        return Progress.model_validate(stored)
    except ValueError:  # written by an older version: keep what still reads
        return Progress()


def _with(progress: Progress, **changes: Any) -> dict[str, Any]:
    return {**progress.model_dump(mode="json"), **changes}


def _member(enum: Any, value: Any, field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise InvalidInputError(
            f"unknown {field} {str(value)[:40]!r}: use one of {choices}", field=field
        ) from None


def _running_on(op_id: str, worker_id: str | None) -> tuple[Any, ...]:
    return (
        _table.c.id == op_id,
        _table.c.status == OperationStatus.RUNNING,
        _table.c.worker_id == worker_id,
    )


def _transition(conn: Connection, where: tuple[Any, ...], now: datetime, **values: Any) -> bool:
    """The one conditional UPDATE every transition makes; True when this caller won.

    ``values`` (and ``updated_at=now``) are written only while ``where`` still holds.
    """
    outcome: CursorResult[Any] = conn.execute(
        update(_table).where(*where).values(updated_at=now, **values)
    )
    return bool(outcome.rowcount == 1)


class PageQuery(TypedDict, total=False):
    """Which operations one page lists: the filters, then ``limit`` (50) from ``offset`` (0)."""

    status: str | None
    op_type: str | None
    parent_id: str | None
    limit: int
    offset: int


class _PageSql(NamedTuple):
    count: Select[Any]
    rows: Select[Any]
    limit: int
    offset: int

    @classmethod
    def of(cls, query: PageQuery, columns: list[Any]) -> _PageSql:
        """The count and the page (newest first) of ``columns`` that ``query`` asks for."""
        unknown = set(query) - PageQuery.__optional_keys__
        if unknown:
            raise TypeError(f"unknown page arguments: {sorted(unknown)}")
        limit, offset = query.get("limit", 50), query.get("offset", 0)
        if limit < 1 or offset < 0:
            raise InvalidInputError("limit must be at least 1 and offset at least 0", field="limit")
        conditions: list[ColumnElement[bool]] = []
        if (status := query.get("status")) is not None:
            conditions.append(_table.c.status == _member(OperationStatus, status, "status"))
        if (op_type := query.get("op_type")) is not None:
            conditions.append(_table.c.type == _member(OperationType, op_type, "type"))
        if (parent_id := query.get("parent_id")) is not None:
            conditions.append(_table.c.parent_id == parent_id)
        newest_first = (_table.c.created_at.desc(), _table.c.id.desc())
        return cls(
            count=select(func.count()).select_from(_table).where(*conditions),
            rows=select(*columns)
            .where(*conditions)
            .order_by(*newest_first)
            .limit(limit)
            .offset(offset),
            limit=limit,
            offset=offset,
        )


def _fetch_or_none(conn: Connection, op_id: str) -> Row[Any] | None:
    return conn.execute(select(*_RECORD_COLUMNS).where(_table.c.id == op_id)).one_or_none()


def _fetch(conn: Connection, op_id: str) -> Row[Any]:
    row = _fetch_or_none(conn, op_id)
    if row is None:
        raise OperationNotFoundError(op_id)
    return row


def _summary(row: Row[Any]) -> OperationSummary:
    return OperationSummary(**_fields(row))


def _record(row: Row[Any]) -> Operation:
    return Operation(**_fields(row), result=row.result)


def _fields(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "type": OperationType(row.type),
        "status": OperationStatus(row.status),
        "strategy_name": row.strategy_name,
        "params": dict(row.params or {}),
        "progress": _progress_of(row),
        "worker_id": row.worker_id,
        "error": row.error,
        "attempts": row.attempts,
        "created_at": row.created_at,
        "started_at": row.started_at,
        "completed_at": row.completed_at,
        "updated_at": row.updated_at,
        "parent_id": row.parent_id,
        "child_key": row.child_key,
    }


def _check_worker_id(worker_id: str) -> None:
    if not worker_id or len(worker_id) > _MAX_WORKER_ID:
        raise InvalidInputError(
            f"worker id must be 1-{_MAX_WORKER_ID} characters", field="worker_id"
        )
