"""The sweep driver over scripted children: Optuna's study in a ktrdr database, pruning
from the reported epoch losses, re-attachment, and the best trial tested once.

The children here are scripted (each poll of a training is one more epoch); the real
ones, over HTTP on live workers, are exercised by tests/integration/test_research_scale.py.
"""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from ktrdr.compute.research.sweep import (
    best_strategy_name,
    open_storage,
    study_name,
)
from ktrdr.control.db import create_database_engine
from ktrdr.control.db.migrate import current_revision, head_revision, upgrade_to_head
from tests.support.scripted_children import EPOCHS, ScriptedChildren, driver


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ktrdr.db'}"
    upgrade_to_head(url)
    return url


def test_hopeless_trials_are_pruned_and_the_best_is_tested_once(database: str) -> None:
    children = ScriptedChildren()
    op_id = "a" * 32
    result = driver(database, children, op_id).run()
    assert result["study_name"] == study_name(op_id)
    assert result["counts"] == {"complete": 2, "pruned": 2, "fail": 0}
    states = [t["state"] for t in result["trials"]]
    assert states == ["complete", "complete", "pruned", "pruned"]
    assert children.stopped == ["trial-2-train", "trial-3-train"]
    assert all(t["last_epoch_reported"] < EPOCHS for t in result["trials"][2:])
    assert [t["value"] for t in result["trials"][2:]] == [None, None]  # pruned: no score
    # Scored on the validation split of the trial's own model.
    backtest = children.params_of("trial-1-backtest")
    assert backtest == {
        "model": "canary_smoke/1d_v2",
        "symbol": "IBM",
        "start_date": "2011-01-03",
        "end_date": "2012-03-01",
    }
    best = result["best"]
    assert best["number"] == 1
    assert best["value"] == pytest.approx(0.2)
    assert best["strategy_name"] == best_strategy_name("canary_smoke", op_id)
    assert f"name: {best['strategy_name']}" in best["strategy_yaml"]
    assert children.params_of("final-backtest") == {"model": "canary_smoke/1d_v2"}
    assert best["test_backtest"]["metrics"]["total_return"] == 0.05
    assert [h["best"] for h in result["history"]] == pytest.approx([0.1, 0.2, 0.2, 0.2])
    # Optuna's tables sit beside ktrdr's: the migrations still find their own revision.
    engine = create_database_engine(database)
    assert current_revision(engine) == head_revision()
    engine.dispose()
    assert upgrade_to_head(database) == head_revision()
    # (Optuna's own check of that table would refuse ktrdr's revision: it is skipped.)
    with pytest.raises(RuntimeError, match="no longer compatible"):
        optuna.load_study(study_name=study_name(op_id), storage=database)
    study = optuna.load_study(study_name=study_name(op_id), storage=open_storage(database))
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE", "PRUNED", "PRUNED"]


def test_a_requeued_driver_continues_its_study_and_keeps_its_trials(database: str) -> None:
    op_id = "b" * 32
    first = driver(database, ScriptedChildren(), op_id, trials=2).run()
    assert len(first["trials"]) == 2
    # The same parent again (a re-queued driver): its finished trials count, none rerun.
    children = ScriptedChildren()
    again = driver(database, children, op_id, trials=3).run()
    assert [t["number"] for t in again["trials"]] == [0, 1, 2]
    assert "trial-0-train" not in children.started
    assert "trial-2-train" in children.started
    # Another sweep resuming this study adds its own trials to it.
    resumed = driver(database, ScriptedChildren(), "c" * 32, trials=1, resume=op_id).run()
    assert resumed["study_name"] == study_name(op_id)
    assert [t["number"] for t in resumed["trials"]] == [3]


def test_a_trial_left_running_is_taken_up_again(database: str) -> None:
    op_id = "d" * 32
    first = driver(database, ScriptedChildren(), op_id, trials=2)
    trial = first.study.ask()  # as a driver that died right after asking would leave it
    trial.set_user_attr("ktrdr_parent", op_id)
    trial.set_user_attr("values", {"indicators.rsi_14.params.period": 9})
    children = ScriptedChildren()
    result = driver(database, children, op_id, trials=2).run()
    assert children.started[0] == "trial-0-train"  # re-attached first, by its key
    assert result["trials"][0]["values"] == {"indicators.rsi_14.params.period": 9}
    assert [t["state"] for t in result["trials"]] == ["complete", "complete"]
