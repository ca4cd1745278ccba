"""Checkpoints and resume: an interrupted training resumed ends with the same weights.

An interruption is an exception raised by the epoch callback after epoch k (what a lost
worker leaves behind: the last checkpoint and nothing else); the resumed run is a new
call with a fresh model, as on another worker.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from ktrdr.compute.training.checkpoint import Checkpoint
from ktrdr.compute.training.trainer import TrainingOutput, checkpoint_key, train_network
from ktrdr.core.progress import Progress
from ktrdr.research.model_registry import checkpoint_file
from ktrdr.research.strategies.schema import EarlyStoppingConfig
from tests.unit.compute.training.test_trainer import CONFIG, MODEL, learnable_dataset


class WorkerGoneError(Exception):
    """Stands in for the worker going away."""


def interrupt_after(epoch: int) -> Any:
    def callback(done: int, metrics: dict[str, float]) -> None:
        if done == epoch:
            raise WorkerGoneError(f"after epoch {epoch}")

    return callback


def assert_same_output(resumed: TrainingOutput, uninterrupted: TrainingOutput) -> None:
    assert resumed.weights.keys() == uninterrupted.weights.keys()
    for name, tensor in uninterrupted.weights.items():
        # byte for byte, not approximately
        assert resumed.weights[name].numpy().tobytes() == tensor.numpy().tobytes(), name
    assert resumed.history == uninterrupted.history
    assert resumed.metrics == uninterrupted.metrics


@pytest.mark.parametrize(("every", "interrupt", "resumes_from"), [(1, 3, 3), (2, 5, 4)])
def test_a_resumed_training_ends_with_the_weights_of_an_uninterrupted_one(
    tmp_path: Path, every: int, interrupt: int, resumes_from: int
) -> None:
    uninterrupted = train_network(learnable_dataset(), MODEL, CONFIG, device="cpu")
    assert uninterrupted.resumed_from_epoch is None

    path = checkpoint_file(tmp_path, "op-1")
    with pytest.raises(WorkerGoneError):
        train_network(
            learnable_dataset(),
            MODEL,
            CONFIG,
            device="cpu",
            on_epoch_end=interrupt_after(interrupt),
            checkpoint=Checkpoint(path, every_epochs=every),
        )
    assert path.is_file()
    # The RNG states a later process would start with are not those of the interruption.
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    reports: list[Progress] = []
    resumed = train_network(
        learnable_dataset(),
        MODEL,
        CONFIG,
        progress=reports.append,
        device="cpu",
        checkpoint=Checkpoint(path, every_epochs=every),
    )
    assert resumed.resumed_from_epoch == resumes_from
    assert reports[0].message == f"resumed from epoch {resumes_from}/{CONFIG.epochs}"
    assert reports[0].details["resumed_from_epoch"] == resumes_from
    assert_same_output(resumed, uninterrupted)


def test_the_checkpoint_holds_the_whole_training_state(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    with pytest.raises(WorkerGoneError):
        train_network(
            learnable_dataset(),
            MODEL,
            CONFIG,
            device="cpu",
            on_epoch_end=interrupt_after(2),
            checkpoint=Checkpoint(path, every_epochs=2),
        )
    state = torch.load(path, weights_only=True)
    assert state["epoch"] == 2
    assert state["key"] == checkpoint_key(learnable_dataset(), MODEL, CONFIG)
    assert {"model", "optimiser", "best_loss", "best_epoch", "best_state", "stale"} <= set(state)
    assert [row["epoch"] for row in state["history"]] == [1, 2]
    assert set(state["rng"]) == {"torch", "cuda", "numpy", "python"}
    assert state["optimiser"]["state"]  # Adam's moments, not a fresh optimiser


def test_a_checkpoint_of_other_data_or_settings_is_not_resumed(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    with pytest.raises(WorkerGoneError):
        train_network(
            learnable_dataset(),
            MODEL,
            CONFIG,
            device="cpu",
            on_epoch_end=interrupt_after(3),
            checkpoint=Checkpoint(path, every_epochs=1),
        )
    other_seed = CONFIG.model_copy(update={"seed": 4})
    fresh = train_network(
        learnable_dataset(), MODEL, other_seed, device="cpu", checkpoint=Checkpoint(path)
    )
    assert fresh.resumed_from_epoch is None
    other_data = train_network(
        learnable_dataset(seed=1), MODEL, CONFIG, device="cpu", checkpoint=Checkpoint(path)
    )
    assert other_data.resumed_from_epoch is None
    path.write_bytes(b"not a checkpoint")  # damaged: start afresh rather than fail
    assert (
        train_network(
            learnable_dataset(), MODEL, CONFIG, device="cpu", checkpoint=Checkpoint(path)
        ).history
        == train_network(learnable_dataset(), MODEL, CONFIG, device="cpu").history
    )


def test_checkpoints_follow_the_epoch_and_the_time_periods(tmp_path: Path) -> None:
    now = [0.0]
    saved: list[int] = []

    def watch(path: Path) -> Any:
        def callback(epoch: int, metrics: dict[str, float]) -> None:
            now[0] += 10.0  # each epoch takes 10 s on this clock
            if path.is_file():
                saved.append(int(torch.load(path, weights_only=True)["epoch"]))

        return callback

    by_epochs = tmp_path / "epochs.pt"
    train_network(
        learnable_dataset(),
        MODEL,
        CONFIG.model_copy(update={"epochs": 7}),
        device="cpu",
        on_epoch_end=watch(by_epochs),
        checkpoint=Checkpoint(by_epochs, every_epochs=3, clock=lambda: now[0]),
    )
    assert saved == [3, 3, 3, 6, 6]  # none after epochs 1 and 2, then epochs 3 and 6
    saved.clear()
    by_time = tmp_path / "time.pt"
    train_network(
        learnable_dataset(),
        MODEL,
        CONFIG.model_copy(update={"epochs": 5}),
        device="cpu",
        on_epoch_end=watch(by_time),
        # epoch e ends 10 * (e - 1) s after the start: due first at epoch 4 (30 s)
        checkpoint=Checkpoint(by_time, every_seconds=25.0, clock=lambda: now[0]),
    )
    assert saved == [4, 4]
    assert not Checkpoint(tmp_path / "never.pt").due(1_000)


def test_a_training_stopped_early_resumes_to_the_same_end(tmp_path: Path) -> None:
    patient = CONFIG.model_copy(
        update={"epochs": 200, "early_stopping": EarlyStoppingConfig(patience=2, min_delta=0.5)}
    )
    uninterrupted = train_network(learnable_dataset(), MODEL, patient, device="cpu")
    last = uninterrupted.metrics["epochs_run"]
    assert last < 200
    path = tmp_path / "c.pt"
    with pytest.raises(WorkerGoneError):
        train_network(
            learnable_dataset(),
            MODEL,
            patient,
            device="cpu",
            on_epoch_end=interrupt_after(last),  # the stopping epoch itself was saved
            checkpoint=Checkpoint(path, every_epochs=1),
        )
    resumed = train_network(
        learnable_dataset(), MODEL, patient, device="cpu", checkpoint=Checkpoint(path)
    )
    assert resumed.resumed_from_epoch == last
    assert_same_output(resumed, uninterrupted)
