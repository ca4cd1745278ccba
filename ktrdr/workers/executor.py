"""One operation at a time: the job thread, its cancel token and its reports.

A worker is busy from the moment it accepts a dispatch until the backend has the
operation's finish report (or the worker gave up delivering it), so the backend never
sees an idle worker whose last result is still in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from ktrdr.core.enums import WorkerStatus, WorkerType
from ktrdr.core.logging_setup import get_logger
from ktrdr.core.progress import CancelToken, OperationCancelledError, Progress
from ktrdr.core.protocol import (
    FinishReport,
    OperationDispatch,
    ProgressReport,
    WorkerHealth,
)
from ktrdr.core.settings import Settings
from ktrdr.research.data.store import DataStore
from ktrdr.workers.backend_client import FINISH_MAX_WAIT_S, BackendClient, StaleAttemptError
from ktrdr.workers.context import JobContext, JobFunction

CANCEL_REQUESTED = "cancel requested"
SHUTDOWN_REASON = "worker shutting down"
SHUTDOWN_FAILURE = "worker shut down before the operation finished"
STALE_REASON = "the backend gave this operation to another attempt"
PROGRESS_INTERVAL_S = 0.5
# While shutting down, how long a finish report may still be retried.
FINISH_ON_SHUTDOWN_S = 5.0
MAX_ERROR_CHARS = 2000

log = get_logger(__name__)


class WorkerBusyError(RuntimeError):
    """The worker cannot take a new operation now."""


def one_line_error(error: BaseException) -> str:
    """``"ValueError: message"`` on one line (strategy errors list issues over many)."""
    message = " ".join(str(error).split())
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text[:MAX_ERROR_CHARS]


class ProgressSender:
    """Posts the newest progress from its own thread.

    The job never waits on the network; at most one report per ``interval_s`` goes out,
    the first at once, and the last one submitted is always sent (flushed on close).
    """

    def __init__(self, send: Callable[[Progress], None], interval_s: float) -> None:
        self._send = send
        self._interval_s = interval_s
        self._cond = threading.Condition()
        self._first: Progress | None = None  # never replaced: the backend sees the start
        self._pending: Progress | None = None  # only the newest one is kept
        self._started = False
        self._closing = False
        self._thread = threading.Thread(target=self._loop, name="progress-sender", daemon=True)
        self._thread.start()

    def __call__(self, progress: Progress) -> None:
        with self._cond:
            if self._started:
                self._pending = progress
            else:
                self._first, self._started = progress, True
            self._cond.notify()

    def close(self, timeout_s: float) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout_s)

    def _loop(self) -> None:
        next_at = 0.0
        while True:
            with self._cond:
                while self._first is None and self._pending is None and not self._closing:
                    self._cond.wait()
                if self._first is not None:
                    progress, self._first = self._first, None
                elif self._pending is None:
                    return  # closing and flushed
                else:
                    while not self._closing and (delay := next_at - time.monotonic()) > 0:
                        self._cond.wait(delay)
                    progress, self._pending = self._pending, None
            try:
                self._send(progress)
            except Exception:  # a bad report must not stop later ones
                log.exception("progress report could not be sent")
            next_at = time.monotonic() + self._interval_s


@dataclass(eq=False)
class _Run:
    dispatch: OperationDispatch
    token: CancelToken = field(default_factory=CancelToken)
    job_done: threading.Event = field(default_factory=threading.Event)
    give_up: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    finish_claimed: bool = False

    @property
    def operation_id(self) -> str:
        return self.dispatch.operation_id


@dataclass(eq=False, repr=False)
class JobExecutor:
    worker_id: str
    worker_type: WorkerType
    job: JobFunction
    client: BackendClient
    settings: Settings
    instance_id: str
    _: KW_ONLY
    progress_interval_s: float = PROGRESS_INTERVAL_S
    finish_max_wait_s: float = FINISH_MAX_WAIT_S
    finish_on_shutdown_s: float = FINISH_ON_SHUTDOWN_S
    _data: DataStore = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _current: _Run | None = field(default=None, init=False)
    _last_accepted_id: str | None = field(default=None, init=False)
    _stopping: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._data = DataStore.from_settings(self.settings)

    @property
    def current_operation_id(self) -> str | None:
        with self._lock:
            return self._current.operation_id if self._current else None

    def health(self) -> WorkerHealth:
        with self._lock:
            run, stopping, last_accepted = self._current, self._stopping, self._last_accepted_id
        status = (
            WorkerStatus.STOPPING if stopping else (WorkerStatus.BUSY if run else WorkerStatus.IDLE)
        )
        return WorkerHealth(
            worker_id=self.worker_id,
            worker_type=self.worker_type,
            status=status,
            instance_id=self.instance_id,
            current_operation_id=run.operation_id if run else None,
            last_accepted_id=last_accepted,
        )

    def submit(self, dispatch: OperationDispatch) -> None:
        """Start the operation in a background thread; ``WorkerBusyError`` if not possible."""
        with self._lock:
            if self._stopping:
                raise WorkerBusyError("worker is shutting down")
            if self._current is not None:
                raise WorkerBusyError(f"busy with operation {self._current.operation_id}")
            run = _Run(dispatch)
            run.thread = threading.Thread(
                target=self._execute, args=(run,), name=f"job-{dispatch.operation_id}", daemon=True
            )
            self._current = run
            self._last_accepted_id = dispatch.operation_id
        run.thread.start()

    def cancel(self, operation_id: str) -> bool:
        """Ask the running operation to stop; False when it is not the current one."""
        with self._lock:
            run = self._current
        if run is None or run.operation_id != operation_id:
            return False
        if not run.token.cancelled:  # keep the first reason
            run.token.cancel(CANCEL_REQUESTED)
        log.info("cancel requested", operation_id=operation_id)
        return True

    def shutdown(self, grace_s: float) -> None:
        """Refuse new work, cancel the current job and see its finish report out."""
        with self._lock:
            self._stopping = True
            run = self._current
        if run is None:
            return
        log.info("cancelling the operation for shutdown", operation_id=run.operation_id)
        run.token.cancel(SHUTDOWN_REASON)
        if run.job_done.wait(grace_s):
            # The job stopped; its own thread is delivering the finish report.
            assert run.thread is not None
            run.thread.join(self.finish_on_shutdown_s)
            if run.thread.is_alive():
                run.give_up.set()
            return
        log.warning(
            "the operation did not stop within the grace period",
            operation_id=run.operation_id,
            grace_s=grace_s,
        )
        self._deliver(
            run,
            self._report(run, "failed", error=SHUTDOWN_FAILURE),
            self.finish_on_shutdown_s,
        )

    def _execute(self, run: _Run) -> None:
        op_log = log.bind(operation_id=run.operation_id)
        op_log.info("operation started", operation_type=run.dispatch.operation_type)
        sender = ProgressSender(
            lambda progress: self._send_progress(run, progress),
            self.progress_interval_s,
        )
        try:
            ctx = JobContext(
                self.settings, self._data, sender, run.token, self.client, self.worker_id
            )
            report = self._completed(run, self.job(ctx, run.dispatch))
        except OperationCancelledError as error:
            reason = str(error) or run.token.reason or "cancelled"
            report = self._report(run, "cancelled", error=reason)
        except BaseException as error:  # a job thread has nobody above it to handle errors
            op_log.exception("operation failed")
            report = self._report(run, "failed", error=one_line_error(error))
        run.job_done.set()
        op_log.info("operation ended", status=report.status, error=report.error)
        # Flush the last progress before the finish report, so it cannot arrive after it.
        sender.close(timeout_s=3.0)
        self._deliver(run, report, self.finish_max_wait_s)
        with self._lock:
            if self._current is run:
                self._current = None

    def _report(
        self,
        run: _Run,
        status: str,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> FinishReport:
        return FinishReport(
            worker_id=self.worker_id,
            attempt=run.dispatch.attempt,
            status=status,  # type: ignore[arg-type]  # validated into OperationStatus
            result=result,
            error=error,
        )

    def _completed(self, run: _Run, result: Any) -> FinishReport:
        if not isinstance(result, dict):
            raise TypeError(f"the job returned {type(result).__name__}, not a dict")
        report = self._report(run, "completed", result=result)
        report.model_dump_json()  # fail here, as the job's error, if it is not JSON-ready
        return report

    def _deliver(self, run: _Run, report: FinishReport, max_wait_s: float) -> None:
        with self._lock:
            if run.finish_claimed:  # exactly one finish report per operation
                return
            run.finish_claimed = True
        self.client.report_finish(
            run.operation_id, report, max_wait_s=max_wait_s, give_up=run.give_up
        )

    def _send_progress(self, run: _Run, progress: Progress) -> None:
        report = ProgressReport(
            worker_id=self.worker_id, attempt=run.dispatch.attempt, progress=progress
        )
        try:
            self.client.report_progress(run.operation_id, report)
        except StaleAttemptError:
            # Superseded (this worker froze, its operation went to another): stop working.
            log.warning("attempt superseded; stopping the job", operation_id=run.operation_id)
            if not run.token.cancelled:
                run.token.cancel(STALE_REASON)
