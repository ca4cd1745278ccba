"""The drills' waits: what counts as an environment's workers being back."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from ktrdr.core.enums import WorkerType
from ktrdr.infra import drills


class HealthSequence:
    """Answers ``health()`` with each worker count in turn, then the last one forever."""

    def __init__(self, *counts: dict[WorkerType, int]) -> None:
        self.counts = list(counts)
        self.calls = 0

    def health(self) -> Any:
        self.calls += 1
        counts = self.counts.pop(0) if len(self.counts) > 1 else self.counts[0]
        return SimpleNamespace(workers=counts)


def test_workers_are_back_with_a_backtest_and_a_training_worker_and_no_research_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(drills.time, "sleep", lambda _: None)
    client = HealthSequence(
        {WorkerType.BACKTESTING: 1, WorkerType.TRAINING: 0, WorkerType.RESEARCH: 0},
        {WorkerType.BACKTESTING: 1, WorkerType.TRAINING: 1, WorkerType.RESEARCH: 0},
    )
    drills.workers_back(client)  # type: ignore[arg-type]
    assert client.calls == 2  # waited for the training worker, not for a research one


def test_workers_are_not_back_without_a_training_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(0, 10_000, 30))
    monkeypatch.setattr(drills.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(drills.time, "sleep", lambda _: None)
    client = HealthSequence({WorkerType.BACKTESTING: 2, WorkerType.RESEARCH: 1})
    with pytest.raises(drills.DrillFailedError, match="both workers registered"):
        drills.workers_back(client)  # type: ignore[arg-type]
