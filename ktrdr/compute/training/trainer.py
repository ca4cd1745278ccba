"""Fit the strategy network: class-weighted cross-entropy, Adam, early stopping.

Deterministic on the CPU: the same seed and data give identical weights and metrics.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ktrdr.compute.device import pick_device
from ktrdr.compute.features.dataset import Split, TrainingDataset
from ktrdr.compute.features.labels import CLASS_NAMES
from ktrdr.compute.training.network import N_CLASSES, build_network
from ktrdr.core.progress import CancelToken, Progress, ProgressCallback
from ktrdr.research.strategies.schema import ModelConfig, TrainingConfig


@dataclass
class TrainingOutput:
    weights: dict[str, Any]  # state dict on the CPU
    metrics: dict[str, Any]
    history: list[dict[str, float]]
    device: str
    seconds: float


def class_weights(labels: np.ndarray) -> np.ndarray:
    """Inverse class frequency (n / (k * count)); absent classes weigh 0."""
    counts = np.bincount(labels, minlength=N_CLASSES).astype(np.float64)
    weights = np.zeros(N_CLASSES)
    present = counts > 0
    weights[present] = len(labels) / (present.sum() * counts[present])
    return weights


def _evaluate(
    model: nn.Module, split: Split, loss_fn: nn.Module, device: torch.device
) -> dict[str, Any]:
    if len(split) == 0:
        return {"loss": None, "accuracy": None, "rows": 0}
    model.eval()
    with torch.no_grad():
        x = torch.from_numpy(split.features).to(device)
        y = torch.from_numpy(split.labels).to(device)
        logits = model(x)
        loss = float(loss_fn(logits, y))
        predicted = logits.argmax(dim=1).cpu().numpy()
    truth = split.labels
    confusion = np.zeros((N_CLASSES, N_CLASSES), dtype=int)
    np.add.at(confusion, (truth, predicted), 1)
    per_class = {}
    for index, name in enumerate(CLASS_NAMES):
        tp = confusion[index, index]
        precision = tp / confusion[:, index].sum() if confusion[:, index].sum() else 0.0
        recall = tp / confusion[index].sum() if confusion[index].sum() else 0.0
        per_class[name] = {"precision": float(precision), "recall": float(recall)}
    return {
        "loss": loss,
        "accuracy": float((predicted == truth).mean()),
        "rows": len(split),
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "label_counts": dict(
            zip(CLASS_NAMES, np.bincount(truth, minlength=3).tolist(), strict=True)
        ),
    }


def train_network(
    dataset: TrainingDataset,
    model_config: ModelConfig,
    config: TrainingConfig,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    device: str | None = None,
) -> TrainingOutput:
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    target = pick_device(device)
    train, validation = dataset.splits["train"], dataset.splits["validation"]
    model = build_network(model_config, train.features.shape[1]).to(target)
    weights = torch.tensor(class_weights(train.labels), dtype=torch.float32, device=target)
    loss_fn = nn.CrossEntropyLoss(weight=weights)
    plain_loss = nn.CrossEntropyLoss(weight=weights)
    optimiser = torch.optim.Adam(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    x_train = torch.from_numpy(train.features).to(target)
    y_train = torch.from_numpy(train.labels).to(target)
    shuffler = torch.Generator().manual_seed(config.seed)
    batches = max(1, -(-len(train) // config.batch_size))
    stopping = config.early_stopping
    best_loss, best_state, best_epoch, stale = float("inf"), None, 0, 0
    history: list[dict[str, float]] = []
    started = time.perf_counter()

    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(train), generator=shuffler).to(target)
        epoch_loss, epoch_correct = 0.0, 0
        for batch in range(batches):
            if cancel is not None:
                cancel.raise_if_cancelled()
            index = order[batch * config.batch_size : (batch + 1) * config.batch_size]
            optimiser.zero_grad()
            logits = model(x_train[index])
            loss = loss_fn(logits, y_train[index])
            loss.backward()
            optimiser.step()
            epoch_loss += loss.item() * len(index)
            epoch_correct += int((logits.argmax(dim=1) == y_train[index]).sum())
            if progress is not None and (batch % 20 == 0 or batch == batches - 1):
                done = (epoch - 1) * batches + batch + 1
                progress(
                    Progress(
                        percent=100.0 * done / (config.epochs * batches),
                        message=f"epoch {epoch}/{config.epochs}, batch {batch + 1}/{batches}",
                        items_done=done,
                        items_total=config.epochs * batches,
                        # The last finished epoch's validation loss: a sweep prunes on it.
                        details={"epoch": epoch, "batch": batch + 1, **_last_epoch(history)},
                    )
                )
        val = _evaluate(model, validation, plain_loss, target)
        val_loss = val["loss"] if val["loss"] is not None else epoch_loss / len(train)
        history.append(
            {
                "epoch": epoch,
                # Over the epoch's batches, in training mode (as the loss is).
                "train_loss": epoch_loss / len(train),
                "train_accuracy": epoch_correct / len(train),
                "val_loss": val_loss,
                "val_accuracy": val["accuracy"] or 0.0,
            }
        )
        if val_loss < best_loss - stopping.min_delta:
            best_loss, best_epoch, stale = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
            if stopping.enabled and stale >= stopping.patience:
                break

    if best_state is not None:
        model.load_state_dict(best_state)
    metrics = {
        "train": _evaluate(model, train, plain_loss, target),
        "validation": _evaluate(model, validation, plain_loss, target),
        "test": _evaluate(model, dataset.splits["test"], plain_loss, target),
        "epochs_run": len(history),
        "best_epoch": best_epoch,
    }
    cpu_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    seconds = round(time.perf_counter() - started, 3)
    return TrainingOutput(cpu_state, metrics, history, str(target), seconds)


def _last_epoch(history: list[dict[str, float]]) -> dict[str, float]:
    if not history:
        return {}
    return {"epochs_done": history[-1]["epoch"], "val_loss": history[-1]["val_loss"]}
