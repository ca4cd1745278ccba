"""Walk-forward and sweep parents against a live stack: a backend, a research worker
(the drivers), two training workers and a backtest worker, all real processes."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ktrdr.cli.app import app
from ktrdr.core.settings import get_settings
from tests.support.fake_backend import wait_for
from tests.support.http import HTTP
from tests.support.stack import Stack, canary_strategy

pytestmark = pytest.mark.integration
STRATEGY = "canary_scale"
SPACE = {
    "indicators.rsi_14.params.period": {"low": 7, "high": 21},
    "model.hidden_layers": {"choices": [[4], [8]]},
    "training.learning_rate": {"low": 0.001, "high": 0.05, "log": True},
    "decisions.confidence_threshold": {"low": 0.0, "high": 0.4},
}


WORKERS = {
    "driver": "research",
    "trainer-1": "training",
    "trainer-2": "training",
    "backtester": "backtesting",
}


@pytest.fixture(scope="module")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # One re-queue per operation: the lost-worker drill relies on it. Two trainers share
    # this host's cores: one torch thread each, or they slow each other down many times.
    # Health checks every second (each may take that long on two busy cores): a killed
    # worker is still noticed within two seconds.
    env = {
        "KTRDR_OPERATION_MAX_RETRIES": "1",
        "KTRDR_TORCH_THREADS": "1",
        "KTRDR_HEALTH_INTERVAL_S": "1",
    }
    running = Stack(home=tmp_path_factory.mktemp("scale") / "home", env_overrides=env)
    running.start_backend()
    try:
        running.put_strategy(STRATEGY, canary_strategy(STRATEGY, epochs=3))
        yield running
    finally:
        running.stop_all()


@pytest.fixture
def stack(running_stack: Stack) -> Stack:
    """The module's stack as every test starts on it, whatever the test before it killed:
    its backend and exactly its four workers, registered and idle, and no operation
    pending or running."""
    running_stack.restore(WORKERS)
    return running_stack


def children(stack: Stack, parent_id: str) -> dict[str, dict]:
    body = stack.get(f"/operations/{parent_id}/children")
    return {child["child_key"]: child for child in body["children"]}


def test_walkforward_runs_its_folds_on_every_worker_and_stitches_them(stack: Stack) -> None:
    started = time.monotonic()
    stack.put_strategy("canary_walk", canary_strategy("canary_walk", epochs=3))
    parent_id = stack.post(
        "/walkforward/start", {"strategy_name": "canary_walk", "folds": 3, "mode": "anchored"}
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
    models = stack.home / "models" / "canary_walk"
    assert sorted(p.name for p in models.iterdir()) == ["1d_v1", "1d_v2", "1d_v3"]
    assert done["progress"]["percent"] == 100.0
    report = HTTP.get(f"{stack.api_url}/api/v1/operations/{parent_id}/report", timeout=10)
    assert report.status_code == 200
    assert "Walk-forward" in report.text
    print(f"walk-forward of 3 folds: {time.monotonic() - started:.1f}s")


def test_sweep_runs_trials_prunes_saves_and_tests_the_best(stack: Stack) -> None:
    started = time.monotonic()
    parent_id = stack.post(
        "/sweeps/start",
        {
            "strategy_name": STRATEGY,
            "space": SPACE,
            "trials": 3,
            "objective": "total_return",
            "parallel": 2,
            "seed": 7,
        },
    )["operation_id"]
    done = stack.wait_status(parent_id, "completed", "failed", "cancelled", timeout_s=300)
    assert done["status"] == "completed", done["error"]
    result = done["result"]
    assert result["study_name"] == f"ktrdr-sweep-{parent_id}"
    assert len(result["trials"]) == 3
    counts = result["counts"]
    assert counts["complete"] + counts["pruned"] + counts["fail"] == 3
    assert counts["complete"] >= 1
    kids = children(stack, parent_id)
    for trial in result["trials"]:
        assert f"trial-{trial['number']}-train" in kids
        assert set(trial["values"]) == set(SPACE)
        low, high = SPACE["indicators.rsi_14.params.period"].values()
        assert low <= trial["values"]["indicators.rsi_14.params.period"] <= high
        if trial["state"] == "complete":
            backtest = stack.operation(kids[f"trial-{trial['number']}-backtest"]["id"])
            # Scored on the model's validation split, never its test split.
            assert (
                backtest["params"]["start_date"]
                >= backtest["result"]["splits"]["validation"][0][:10]
            )
            assert backtest["result"]["range"]["end"] < backtest["result"]["splits"]["test"][0]
            assert trial["value"] == pytest.approx(backtest["result"]["metrics"]["total_return"])
    best = result["best"]
    completed = [t for t in result["trials"] if t["state"] == "complete"]
    assert best["value"] == max(t["value"] for t in completed)
    # Backtested once on the untouched test split, and saved as a new strategy.
    final = stack.operation(kids["final-backtest"]["id"])
    assert final["result"]["range"]["source"] == "test_split"
    assert best["test_backtest"]["metrics"] == final["result"]["metrics"]
    saved = wait_for(
        lambda: (stack.home / "strategies" / f"{best['strategy_name']}.yaml").is_file(),
        timeout_s=10,
    )
    assert saved
    strategies = {s["name"] for s in stack.get("/strategies")}
    assert best["strategy_name"] in strategies
    report = HTTP.get(f"{stack.api_url}/api/v1/operations/{parent_id}/report", timeout=10)
    assert report.status_code == 200
    assert "Best trial" in report.text
    print(f"sweep of 3 trials: {time.monotonic() - started:.1f}s")


def test_cancelling_a_parent_cancels_its_children_and_its_driver(stack: Stack) -> None:
    stack.put_strategy("canary_slow", canary_strategy("canary_slow", epochs=5000))
    parent_id = stack.post("/walkforward/start", {"strategy_name": "canary_slow", "folds": 3})[
        "operation_id"
    ]
    wait_for(
        lambda: sum(kid["status"] == "running" for kid in children(stack, parent_id).values()) >= 2,
        timeout_s=60,
        interval_s=0.2,
    )
    stack.delete(f"/operations/{parent_id}")
    final = stack.wait_status(parent_id, "cancelled", timeout_s=30)
    assert final["status"] == "cancelled"
    kids = children(stack, parent_id)
    assert {kid["status"] for kid in kids.values()} == {"cancelled"}
    # Every worker really stopped: all idle again, none holds an operation.
    wait_for(
        lambda: all(
            w["status"] == "idle" and w["current_operation_id"] is None
            for w in stack.get("/workers")
        ),
        timeout_s=30,
        interval_s=0.2,
    )
    assert len(children(stack, parent_id)) == len(kids)  # the driver made no more


def test_a_child_whose_worker_is_killed_is_requeued_and_the_parent_completes(
    stack: Stack,
) -> None:
    # Long enough that the kill lands mid-training: the victim below is under 50 % at a
    # report made at most half a second before, with hundreds of epochs to go. (Earlier
    # runs that got ``attempts == 0`` with 600 and with 2,000 epochs had killed a child at
    # 0 %, its dispatch still in flight: the predicate below, not the length, fixed that.)
    stack.put_strategy("canary_mid", canary_strategy("canary_mid", epochs=600))
    parent_id = stack.post("/walkforward/start", {"strategy_name": "canary_mid", "folds": 2})[
        "operation_id"
    ]
    victim = wait_for(
        lambda: next(
            (
                kid
                for kid in children(stack, parent_id).values()
                if kid["status"] == "running"
                and kid["worker_id"] == "trainer-1"
                # Above 0: trainer-1 accepted it and reports progress. At 0 the backend may
                # have marked it running with the dispatch still in flight, and a kill then
                # only reverts it to pending, with no attempt spent.
                and 0 < kid["progress"]["percent"] < 50
            ),
            None,
        ),
        timeout_s=60,
        interval_s=0.1,
    )
    stack.stop("trainer-1", signal.SIGKILL)
    done = stack.wait_status(parent_id, "completed", "failed", timeout_s=300)
    assert done["status"] == "completed", done["error"]
    again = stack.operation(victim["id"])
    assert again["status"] == "completed"
    assert again["attempts"] == 1  # re-queued once, then finished on the other trainer
    assert again["worker_id"] == "trainer-2"
    assert len(children(stack, parent_id)) == 4  # no duplicate children


@pytest.mark.parametrize("kind", ["walkforward", "sweep"])
def test_a_lost_driver_is_requeued_and_reattaches_to_its_children(stack: Stack, kind: str) -> None:
    # Long enough to be running when the driver dies (a sweep trains on all the bars).
    epochs = 100 if kind == "walkforward" else 40
    stack.put_strategy("canary_mid", canary_strategy("canary_mid", epochs=epochs))
    body: dict[str, object] = {"strategy_name": "canary_mid"}
    if kind == "walkforward":
        body["folds"] = 3
    else:
        body.update(space=SPACE, trials=3, parallel=2, seed=5, pruning=False)
    path = "/walkforward/start" if kind == "walkforward" else "/sweeps/start"
    parent_id = stack.post(path, body)["operation_id"]
    wait_for(
        lambda: sum(k["status"] == "running" for k in children(stack, parent_id).values()) >= 2,
        timeout_s=60,
        interval_s=0.1,
    )
    before = children(stack, parent_id)
    stack.stop("driver", signal.SIGKILL)  # the driver dies; its children go on
    wait_for(
        lambda: stack.operation(parent_id)["status"] == "pending", timeout_s=30, interval_s=0.2
    )
    stack.start_worker("driver-2", "research")
    done = stack.wait_status(parent_id, "completed", "failed", timeout_s=300)
    assert done["status"] == "completed", done["error"]
    assert done["worker_id"] == "driver-2"
    assert done["attempts"] == 1
    kids = children(stack, parent_id)
    for key, child in before.items():  # asked for again by key: the same children
        assert kids[key]["id"] == child["id"]
    assert {kid["attempts"] for kid in kids.values()} == {0}  # none was restarted
    if kind == "walkforward":
        assert len(kids) == 6
    else:
        trials = done["result"]["trials"]
        assert [t["number"] for t in trials] == [0, 1, 2]
        assert sorted(k for k in kids if k.endswith("-train")) == [
            f"trial-{n}-train" for n in range(3)
        ]


def test_a_backend_restart_mid_sweep_loses_nothing(stack: Stack) -> None:
    parent_id = stack.post(
        "/sweeps/start",
        {"strategy_name": STRATEGY, "space": SPACE, "trials": 4, "parallel": 2, "seed": 3},
    )["operation_id"]
    wait_for(lambda: len(children(stack, parent_id)) >= 2, timeout_s=60, interval_s=0.1)
    assert stack.stop("backend") == 0
    stack.start_backend()
    done = stack.wait_status(parent_id, "completed", "failed", timeout_s=300)
    assert done["status"] == "completed", done["error"]
    assert done["attempts"] == 0  # the same driver carried on
    result = done["result"]
    assert [t["number"] for t in result["trials"]] == [0, 1, 2, 3]
    kids = children(stack, parent_id)
    trained = [key for key in kids if key.endswith("-train")]
    assert sorted(trained) == [f"trial-{n}-train" for n in range(4)]


def test_the_cli_runs_both_through_the_backend(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KTRDR_API_URL", stack.api_url)
    monkeypatch.setenv("KTRDR_HOME", str(tmp_path / "cli-home"))
    get_settings.cache_clear()
    strategy = tmp_path / "cli_scale.yaml"
    strategy.write_text(canary_strategy("cli_scale", epochs=3))
    space = tmp_path / "cli_scale.space.yaml"
    space.write_text(yaml.safe_dump({"params": SPACE}))
    runner = CliRunner()
    try:
        walked = runner.invoke(
            app, ["walkforward", str(strategy), "--folds", "2", "--follow", "--json"]
        )
        assert walked.exit_code == 0, walked.output
        assert [row["fold"] for row in json.loads(walked.stdout)["folds"]] == [1, 2]
        report = tmp_path / "sweep.html"
        swept = runner.invoke(
            app,
            [
                "sweep",
                str(strategy),
                "--space",
                str(space),
                "--trials",
                "2",
                "--report",
                str(report),
            ],
        )
        assert swept.exit_code == 0, swept.output
        assert "saved as strategy" in swept.stdout
        assert "Best trial" in report.read_text()
        bad = tmp_path / "bad.space.yaml"
        bad.write_text(yaml.safe_dump({"params": {"indicators[5].params.period": {"low": 1}}}))
        refused = runner.invoke(app, ["sweep", str(strategy), "--space", str(bad)])
        assert refused.exit_code == 1
        assert "bad.space.yaml is invalid" in refused.output
        assert "params['indicators[5].params.period']: strategy has 2 indicators" in refused.output
        assert runner.invoke(app, ["walkforward", str(strategy), "--folds", "99"]).exit_code == 1
    finally:
        get_settings.cache_clear()
