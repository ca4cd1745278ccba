"""The epoch callback a search prunes with, and TrainingPruned through the pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from ktrdr.compute.training.callbacks import TrainingPruned
from ktrdr.compute.training.checkpoint import Checkpoint
from ktrdr.compute.training.pipeline import train_strategy
from ktrdr.compute.training.trainer import train_network
from ktrdr.research.data.store import DataStore
from ktrdr.research.model_registry import list_models
from ktrdr.research.strategies import load_strategy
from tests.conftest import STRATEGIES_DIR
from tests.unit.compute.training.test_trainer import CONFIG, MODEL, learnable_dataset


def test_the_callback_sees_every_epoch_with_its_metrics() -> None:
    seen: list[tuple[int, dict[str, float]]] = []
    output = train_network(
        learnable_dataset(),
        MODEL,
        CONFIG,
        device="cpu",
        on_epoch_end=lambda epoch, metrics: seen.append((epoch, metrics)),
    )
    assert [epoch for epoch, _ in seen] == list(range(1, CONFIG.epochs + 1))
    for (epoch, metrics), row in zip(seen, output.history, strict=True):
        assert set(metrics) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy"}
        assert metrics == {k: v for k, v in row.items() if k != "epoch"}, epoch
        assert all(isinstance(v, float) for v in metrics.values())


def test_pruning_stops_the_training_at_that_epoch() -> None:
    epochs: list[int] = []

    def prune_at_four(epoch: int, metrics: dict[str, float]) -> None:
        epochs.append(epoch)
        if epoch == 4:
            raise TrainingPruned(epoch, "val_loss above the median")

    with pytest.raises(TrainingPruned, match="pruned after epoch 4: val_loss above") as caught:
        train_network(learnable_dataset(), MODEL, CONFIG, device="cpu", on_epoch_end=prune_at_four)
    assert caught.value.epoch == 4
    assert epochs == [1, 2, 3, 4]


def quick_strategy():  # type: ignore[no-untyped-def]
    config = load_strategy("stoch_adx_breakout", STRATEGIES_DIR)
    training = config.training.model_copy(update={"epochs": 4})
    return config.model_copy(update={"training": training})


def test_the_pipeline_propagates_pruning_stores_nothing_and_drops_the_checkpoint(
    tmp_path: Path,
) -> None:
    def prune(epoch: int, metrics: dict[str, float]) -> None:
        raise TrainingPruned(epoch)

    checkpoint = Checkpoint(tmp_path / "ck.pt", every_epochs=1)
    with pytest.raises(TrainingPruned):
        train_strategy(
            quick_strategy(),
            DataStore(tmp_path / "data"),
            tmp_path / "models",
            symbols=["IBM"],
            device="cpu",
            on_epoch_end=prune,
            checkpoint=checkpoint,
        )
    assert list_models(tmp_path / "models") == []
    assert not checkpoint.path.exists()
