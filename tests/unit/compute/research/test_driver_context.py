"""A driver's context: its progress never reads 100 before the result, its pause ends at
once when the parent is cancelled."""

from __future__ import annotations

import threading
import time

import pytest

from ktrdr.compute.research.waiting import DriverContext
from ktrdr.core.progress import CancelToken, OperationCancelledError, Progress
from tests.support.scripted_children import ScriptedChildren


def test_progress_is_finished_children_over_all_and_stops_at_99() -> None:
    seen: list[Progress] = []
    ctx = DriverContext(ScriptedChildren(), CancelToken(), seen.append)
    ctx.report(1, 4, "1/2 folds tested")
    ctx.report(4, 4, "2/2 folds tested")
    ctx.report(0, 0, "nothing planned")
    assert [(p.percent, p.items_done, p.items_total) for p in seen] == [
        (25.0, 1, 4),
        (99.0, 4, 4),
        (0.0, 0, 0),
    ]
    assert seen[0].message == "1/2 folds tested"


def test_without_a_callback_reporting_does_nothing() -> None:
    DriverContext(ScriptedChildren(), CancelToken()).report(1, 2, "ignored")


def test_a_pause_lasts_its_poll_interval_by_the_clock() -> None:
    reads: list[float] = []

    def clock() -> float:  # a tenth of a second passes at every reading
        reads.append(len(reads) / 10)
        return reads[-1]

    DriverContext(ScriptedChildren(), CancelToken(), poll_s=0.5, clock=clock).pause()
    # It started at 0.0 and waited until the clock said 0.5 had passed, no longer.
    assert 0.5 <= reads[-1] <= 0.7, reads


def test_a_cancel_during_a_pause_ends_it_at_once() -> None:
    cancel = CancelToken()
    ctx = DriverContext(ScriptedChildren(), cancel, poll_s=30.0)
    threading.Timer(0.1, cancel.cancel, args=("stopped by the user",)).start()
    started = time.monotonic()
    with pytest.raises(OperationCancelledError, match="stopped by the user"):
        ctx.pause()
    assert time.monotonic() - started < 5.0
