"""Train a strategy end to end: data -> features and labels -> network -> stored model.

Used by ``ktrdr train --local`` and by the training worker alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ktrdr.compute.features.dataset import build_dataset
from ktrdr.compute.training.callbacks import EpochCallback, TrainingPruned
from ktrdr.compute.training.checkpoint import Checkpoint
from ktrdr.compute.training.model_storage import save_model
from ktrdr.compute.training.trainer import train_network
from ktrdr.core.progress import CancelToken, Progress, ProgressCallback
from ktrdr.research.data.store import DataStore
from ktrdr.research.strategies.schema import StrategyConfig


def train_strategy(
    config: StrategyConfig,
    store: DataStore,
    models_dir: Path,
    *,
    symbols: list[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    device: str | None = None,
    publish: bool = True,
    on_epoch_end: EpochCallback | None = None,
    checkpoint: Checkpoint | None = None,
) -> dict[str, Any]:
    """Train, store a new model version and return a JSON-ready summary.

    With ``checkpoint`` the training resumes from it when one for the same data and
    settings is there, and removes it once the model is stored (or the run was pruned);
    any other failure leaves it for the next attempt. ``TrainingPruned`` raised by
    ``on_epoch_end`` propagates to the caller.
    """
    if progress is not None:
        progress(Progress(percent=0.0, message="building features and labels"))
    dataset = build_dataset(config, store, symbols, start, end)
    if cancel is not None:
        cancel.raise_if_cancelled()
    try:
        output = train_network(
            dataset,
            config.model,
            config.training,
            progress,
            cancel,
            device,
            on_epoch_end=on_epoch_end,
            checkpoint=checkpoint,
        )
    except TrainingPruned:
        if checkpoint is not None:  # a pruned trial is over: nothing will resume it
            checkpoint.remove()
        raise
    timeframe = config.training_data.base_timeframe
    info = save_model(
        models_dir,
        strategy=config.to_yaml_dict(),
        timeframe=timeframe,
        weights=output.weights,
        features={
            "names": dataset.feature_names,
            "normalisation": dataset.normalisation,
            "timeframes": config.training_data.timeframes,
        },
        metrics={**output.metrics, "history": output.history},
        metadata={
            "symbols": list(dataset.ranges),
            "ranges": dataset.ranges,
            "rows": dataset.describe()["rows"],
            "purge": dataset.purge,
            "seed": config.training.seed,
            "device": output.device,
            "training_seconds": output.seconds,
            "resumed_from_epoch": output.resumed_from_epoch,
        },
        publish=publish,
    )
    if checkpoint is not None:
        checkpoint.remove()
    if progress is not None:
        progress(Progress(percent=100.0, message=f"stored model {info.model_id}"))
    return {
        "model_id": info.model_id,
        "model_path": str(info.path),
        "strategy": config.name,
        "timeframe": timeframe,
        "device": output.device,
        "training_seconds": output.seconds,
        "epochs_run": output.metrics["epochs_run"],
        # The checkpoint's epoch when this run resumed one (a re-dispatched operation).
        "resumed_from_epoch": output.resumed_from_epoch,
        "rows": dataset.describe()["rows"],
        "ranges": dataset.ranges,
        # Rows dropped so that no target reads a later split's bars (and the embargo).
        "purge": dataset.purge,
        "metrics": {split: output.metrics[split] for split in ("train", "validation", "test")},
        # What a training report draws: one row per epoch (bounded by training.epochs).
        "history": output.history,
        "best_epoch": output.metrics["best_epoch"],
        "epochs_configured": config.training.epochs,
        "early_stopping": config.training.early_stopping.model_dump(mode="json"),
        "data_split": config.training.data_split.model_dump(mode="json"),
    }
