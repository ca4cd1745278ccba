"""``ktrdr walkforward --local`` and ``ktrdr sweep --local``: everything in this process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ktrdr.cli.app import app
from ktrdr.control.db import create_database_engine
from ktrdr.control.db.migrate import current_revision, head_revision
from ktrdr.core.settings import get_settings
from tests.support.stack import canary_strategy

runner = CliRunner()


@pytest.fixture
def workdir(ktrdr_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    monkeypatch.setenv("KTRDR_STRATEGIES_DIR", str(strategies))
    get_settings.cache_clear()
    path = strategies / "local_scale.yaml"
    path.write_text(canary_strategy("local_scale", epochs=3))
    return strategies


@pytest.mark.slow
def test_walkforward_runs_locally(workdir: Path, ktrdr_home: Path, tmp_path: Path) -> None:
    report = tmp_path / "wf.html"
    result = runner.invoke(
        app,
        [
            "walkforward",
            "local_scale",
            "--local",
            "--train-bars",
            "500",
            "--test-bars",
            "400",
            "--folds",
            "3",
            "--mode",
            "anchored",
            "--json",
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout[result.stdout.index("{") :].split("\nreport written")[0])
    assert [row["fold"] for row in body["folds"]] == [1, 2, 3]
    assert [row["test"]["bars"] for row in body["folds"]] == [400, 400, 400]
    assert body["stitched"]["bars"] <= 1200
    assert "Walk-forward" in report.read_text()
    # No model was published: the folds' models are the walk-forward's.
    assert not (ktrdr_home / "models" / "local_scale" / "1d_latest").exists()


@pytest.mark.slow
def test_sweep_runs_locally_saves_the_best_and_resumes(
    workdir: Path, ktrdr_home: Path, tmp_path: Path
) -> None:
    space = tmp_path / "s.space.yaml"
    space.write_text(
        yaml.safe_dump({"params": {"indicators.rsi_14.params.period": {"low": 7, "high": 21}}})
    )
    args = ["sweep", "local_scale", "--space", str(space), "--trials", "2", "--local"]
    first = runner.invoke(app, [*args, "--seed", "1", "--objective", "total_return"])
    assert first.exit_code == 0, first.output
    assert "saved as strategy" in first.stdout
    saved = [p.name for p in workdir.iterdir() if "_sweep_" in p.name]
    assert len(saved) == 1
    study = first.output.split("--resume ")[1].split(")")[0].strip()
    again = runner.invoke(app, [*args, "--resume", study, "--json"])
    assert again.exit_code == 0, again.output
    resumed = json.loads(again.stdout)  # the result alone: the study line is on stderr
    assert [t["number"] for t in resumed["trials"]] == [2, 3]
    assert resumed["study_name"] == f"ktrdr-sweep-{study}"
    # The study went into ktrdr's own database, migrated first.
    engine = create_database_engine(get_settings().database)
    assert current_revision(engine) == head_revision()
    engine.dispose()
