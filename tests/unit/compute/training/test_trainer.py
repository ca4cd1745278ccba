from __future__ import annotations

import numpy as np
import pytest
import torch

from ktrdr.compute.features.dataset import Split, TrainingDataset
from ktrdr.compute.training.trainer import class_weights, train_network
from ktrdr.core.progress import CancelToken, OperationCancelledError, Progress
from ktrdr.research.strategies.schema import EarlyStoppingConfig, ModelConfig, TrainingConfig


def learnable_dataset(rows: int = 600, seed: int = 0) -> TrainingDataset:
    """Class = SELL / HOLD / BUY by the sign pattern of the first feature."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 4)).astype(np.float32)
    labels = np.where(features[:, 0] > 0.5, 2, np.where(features[:, 0] < -0.5, 0, 1))

    def split(lo: int, hi: int) -> Split:
        return Split(features[lo:hi], labels[lo:hi].astype(np.int64))

    return TrainingDataset(
        feature_names=[f"f{i}" for i in range(4)],
        normalisation={},
        splits={"train": split(0, 400), "validation": split(400, 500), "test": split(500, 600)},
    )


CONFIG = TrainingConfig(epochs=15, batch_size=32, learning_rate=0.01, seed=3)
MODEL = ModelConfig(hidden_layers=[16], dropout=0.1)


def test_class_weights_are_inverse_frequency() -> None:
    labels = np.array([0, 1, 1, 1])
    # n / (k * count) with k = 2 present classes: 4/(2*1) = 2, 4/(2*3) = 0.667, absent = 0
    np.testing.assert_allclose(class_weights(labels), [2.0, 4 / 6, 0.0])


def test_training_learns_a_learnable_rule() -> None:
    output = train_network(learnable_dataset(), MODEL, CONFIG, device="cpu")
    assert output.metrics["test"]["accuracy"] > 0.8
    assert output.device == "cpu"
    assert set(output.metrics) >= {"train", "validation", "test", "epochs_run", "best_epoch"}


def test_same_seed_same_data_gives_identical_results() -> None:
    first = train_network(learnable_dataset(), MODEL, CONFIG, device="cpu")
    second = train_network(learnable_dataset(), MODEL, CONFIG, device="cpu")
    assert first.metrics == second.metrics
    assert first.history == second.history
    for name, tensor in first.weights.items():
        assert torch.equal(tensor, second.weights[name]), name


def test_a_different_seed_changes_the_weights() -> None:
    first = train_network(learnable_dataset(), MODEL, CONFIG, device="cpu")
    other = train_network(
        learnable_dataset(), MODEL, CONFIG.model_copy(update={"seed": 4}), device="cpu"
    )
    assert not all(torch.equal(first.weights[k], other.weights[k]) for k in first.weights)


def test_early_stopping_stops_before_the_last_epoch() -> None:
    patient = CONFIG.model_copy(
        update={"epochs": 200, "early_stopping": EarlyStoppingConfig(patience=2, min_delta=0.5)}
    )
    output = train_network(learnable_dataset(), MODEL, patient, device="cpu")
    assert output.metrics["epochs_run"] < 200


def test_progress_reports_epochs_and_batches() -> None:
    seen: list[Progress] = []
    train_network(learnable_dataset(), MODEL, CONFIG, progress=seen.append, device="cpu")
    percents = [p.percent for p in seen]
    assert percents == sorted(percents)
    assert percents[-1] == pytest.approx(100.0, abs=100 / (15 * 13))
    assert seen[-1].items_total == 15 * 13  # 400 rows / 32 per batch -> 13 batches
    assert {"epoch", "batch"} <= set(seen[0].details)


def test_cancellation_stops_training() -> None:
    token = CancelToken()

    def cancel_at_second_report(progress: Progress) -> None:
        if progress.items_done > 1:
            token.cancel("user asked")

    with pytest.raises(OperationCancelledError, match="user asked"):
        train_network(
            learnable_dataset(), MODEL, CONFIG, progress=cancel_at_second_report, cancel=token
        )
