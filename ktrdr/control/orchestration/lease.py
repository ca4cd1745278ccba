"""The leader lease: of the backends on one database, one dispatches and supervises.

During a rolling restart two backends share the database for a while. Both serve the API
(reads, new operations, worker reports: every write is a conditional update, safe from
either), but only the holder of the lease hands out work and declares workers lost:
two supervisors would each take the other's running operations for orphans.

The lease is a database row with a holder and an expiry. The holder renews it every
third of its term; another backend takes it once it has expired (its holder stopped or
froze), and a backend that stops gracefully hands it back at once.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from ktrdr.control.db.engine import for_writes
from ktrdr.control.db.models import LeaseRow
from ktrdr.core.logging_setup import get_logger

LEADER = "leader"
_table = LeaseRow.__table__
log = get_logger(__name__)


class Lease:
    """One named lease in the database, held (or wanted) by this process."""

    def __init__(
        self,
        engine: Engine,
        term_s: float,
        name: str = LEADER,
        holder: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._writer = for_writes(engine)
        self.term_s = term_s
        self.name = name
        self.holder = holder or uuid.uuid4().hex
        self._clock = clock
        self._held_until: datetime | None = None
        self._lock = threading.Lock()

    @property
    def held(self) -> bool:
        """True while this process holds an unexpired lease (as of its last renewal)."""
        with self._lock:
            return self._held_until is not None and self._clock() < self._held_until

    def acquire(self) -> bool:
        """Take or renew the lease; True when this process holds it now."""
        now = self._clock()
        until = now + timedelta(seconds=self.term_s)
        with self._writer.begin() as conn:
            row = conn.execute(select(_table).where(_table.c.name == self.name)).one_or_none()
            if row is None:
                try:
                    conn.execute(
                        insert(_table).values(name=self.name, holder=self.holder, expires_at=until)
                    )
                    won = True
                except IntegrityError:  # another backend inserted it first
                    won = False
            else:
                outcome = conn.execute(
                    update(_table)
                    .where(
                        _table.c.name == self.name,
                        (_table.c.holder == self.holder) | (_table.c.expires_at < now),
                    )
                    .values(holder=self.holder, expires_at=until)
                )
                won = outcome.rowcount == 1
        with self._lock:
            was_held = self._held_until is not None
            self._held_until = until if won else None
        if won != was_held:
            log.info("leader_lease_" + ("acquired" if won else "lost"), holder=self.holder)
        return won

    def release(self) -> None:
        """Hand the lease back now, so that another backend need not wait for its expiry."""
        with self._lock:
            self._held_until = None
        with self._writer.begin() as conn:
            conn.execute(
                update(_table)
                .where(_table.c.name == self.name, _table.c.holder == self.holder)
                .values(expires_at=self._clock() - timedelta(seconds=1))
            )


class LeaseKeeper:
    """Renews (or keeps trying to take) the lease in a background thread."""

    def __init__(self, lease: Lease, on_acquired: Callable[[], None]) -> None:
        self.lease = lease
        self._on_acquired = on_acquired
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def start(self) -> None:
        self._renew()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.lease.release()

    def _run(self) -> None:
        while not self._stop.wait(self.lease.term_s / 3):
            self._renew()

    def _renew(self) -> None:
        was_held = self.lease.held
        try:
            held = self.lease.acquire()
        except Exception:  # the database may be restarting: try again next round
            log.exception("leader_lease_renewal_failed")
            return
        if held and not was_held:
            self._on_acquired()
