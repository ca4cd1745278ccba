"""Walk-forward and sweep parents against a live stack: a backend, a research worker
(the drivers), two training workers and a backtest worker, all real processes."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.fake_backend import wait_for
from tests.support.stack import Stack, canary_strategy

pytestmark = pytest.mark.integration
STRATEGY = "canary_scale"
SPACE = {
    "indicators.rsi_14.params.period": {"low": 7, "high": 21},
    "model.hidden_layers": {"choices": [[4], [8]]},
    "training.learning_rate": {"low": 0.001, "high": 0.05, "log": True},
    "decisions.confidence_threshold": {"low": 0.0, "high": 0.4},
}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    # One re-queue per operation: the lost-worker drill relies on it.
    running = Stack(home=tmp_path / "home", env_overrides={"KTRDR_OPERATION_MAX_RETRIES": "1"})
    running.start_backend()
    try:
        running.start_worker("driver", "research")
        running.start_worker("trainer-1", "training")
        running.start_worker("trainer-2", "training")
        running.start_worker("backtester", "backtesting")
        running.wait_for_workers(backtesting=1, training=2)
        wait_for(lambda: running.get("/health")["workers"]["research"] >= 1, timeout_s=60)
        running.put_strategy(STRATEGY, canary_strategy(STRATEGY, epochs=3))
        yield running
    finally:
        running.stop_all()


def children(stack: Stack, parent_id: str) -> dict[str, dict]:
    body = stack.get(f"/operations/{parent_id}/children")
    return {child["child_key"]: child for child in body["children"]}


def test_walkforward_runs_its_folds_on_every_worker_and_stitches_them(stack: Stack) -> None:
    started = time.monotonic()
    parent_id = stack.post(
        "/walkforward/start", {"strategy_name": STRATEGY, "folds": 3, "mode": "anchored"}
    )["operation_id"]
    done = stack.wait_status(parent_id, "completed", "failed", "cancelled", timeout_s=300)
    assert done["status"] == "completed", done["error"]
    assert done["worker_id"] == "driver"
    result = done["result"]
    assert [row["fold"] for row in result["folds"]] == [1, 2, 3]
    # Anchored: every fold trains from the first bar; each tests right after its window.
    starts = {row["train"]["start"] for row in result["folds"]}
    assert len(starts) == 1
    for row in result["folds"]:
        assert row["train"]["end"] < row["test"]["start"]
    kids = children(stack, parent_id)
    assert sorted(kids) == sorted(
        f"fold-{n}-{stage}" for n in (1, 2, 3) for stage in ("train", "backtest")
    )
    assert {kid["status"] for kid in kids.values()} == {"completed"}
    trainers = {kids[f"fold-{n}-train"]["worker_id"] for n in (1, 2, 3)}
    assert trainers == {"trainer-1", "trainer-2"}  # the folds trained in parallel
    stitched = result["stitched"]
    test_bars = sum(row["test"]["bars"] for row in result["folds"])
    assert 0 < stitched["bars"] <= test_bars
    assert set(stitched["metrics"]) >= {"total_return", "sharpe_ratio", "max_drawdown"}
    assert "total_return" in stitched["benchmark"]
    # Chained: the stitched curve ends where the folds' returns compound to.
    growth = 1.0
    for row in result["folds"]:
        growth *= 1 + row["metrics"]["total_return"]
    assert stitched["metrics"]["total_return"] == pytest.approx(growth - 1, rel=1e-6, abs=1e-9)
    # Child trainings never move `latest`: three versions stored, none published.
    models = stack.home / "models" / STRATEGY
    assert sorted(p.name for p in models.iterdir()) == ["1d_v1", "1d_v2", "1d_v3"]
    assert done["progress"]["percent"] == 100.0
    report = httpx.get(f"{stack.api_url}/api/v1/operations/{parent_id}/report", timeout=10)
    assert report.status_code == 200
    assert "Walk-forward" in report.text
    print(f"walk-forward of 3 folds: {time.monotonic() - started:.1f}s")
