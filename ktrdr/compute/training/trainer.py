"""Fit the strategy network: class-weighted cross-entropy, Adam, early stopping.

Deterministic on the CPU: the same seed and data give identical weights and metrics,
whether the run went through in one go or resumed from a checkpoint.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ktrdr.compute.device import pick_device
from ktrdr.compute.features.dataset import Split, TrainingDataset
from ktrdr.compute.features.labels import CLASS_NAMES
from ktrdr.compute.training.callbacks import EpochCallback
from ktrdr.compute.training.checkpoint import Checkpoint
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
    resumed_from_epoch: int | None = None  # the checkpoint's epoch, when it resumed


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


def _epoch_seed(seed: int, epoch: int) -> int:
    # One shuffle per (seed, epoch), independent of what ran before: a run resumed at
    # epoch k shuffles epoch k+1 as an uninterrupted run does. seed < 2**32, epoch < 2**16.
    return (seed << 16) | epoch


def checkpoint_key(
    dataset: TrainingDataset, model_config: ModelConfig, config: TrainingConfig
) -> str:
    """What a checkpoint must have been written for: this data and these settings."""
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            [model_config.model_dump(mode="json"), config.model_dump(mode="json")], sort_keys=True
        ).encode()
    )
    for name in ("train", "validation"):
        digest.update(dataset.splits[name].features.tobytes())
        digest.update(dataset.splits[name].labels.tobytes())
    return digest.hexdigest()


def _rng_states() -> dict[str, Any]:
    numpy_state = np.random.get_state()
    python_state = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        # as plain lists: what torch.load(weights_only=True) reads back
        "numpy": [numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]],
        "python": [python_state[0], list(python_state[1]), python_state[2]],
    }


def _restore_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    kind, keys, *rest = states["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), *rest))
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))


def _cpu(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v.detach().cpu().clone() for k, v in state.items()}


def train_network(
    dataset: TrainingDataset,
    model_config: ModelConfig,
    config: TrainingConfig,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    device: str | None = None,
    *,
    on_epoch_end: EpochCallback | None = None,
    checkpoint: Checkpoint | None = None,
) -> TrainingOutput:
    """Fit the network; with ``checkpoint``, resume from it and keep it up to date.

    ``on_epoch_end(epoch, metrics)`` runs after each epoch (and its checkpoint); raising
    :class:`TrainingPruned` there stops the training (the exception propagates).
    """
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    random.seed(config.seed)
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
    batches = max(1, -(-len(train) // config.batch_size))
    stopping = config.early_stopping
    best_loss, best_state, best_epoch, stale = float("inf"), None, 0, 0
    history: list[dict[str, float]] = []
    first_epoch, resumed_from, earlier_seconds = 1, None, 0.0
    key = checkpoint_key(dataset, model_config, config) if checkpoint is not None else ""
    saved = checkpoint.load(key) if checkpoint is not None else None
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimiser.load_state_dict(saved["optimiser"])
        best_loss, best_epoch, stale = saved["best_loss"], saved["best_epoch"], saved["stale"]
        best_state = saved["best_state"]
        history = saved["history"]
        earlier_seconds = saved["seconds"]
        _restore_rng_states(saved["rng"])
        resumed_from = int(saved["epoch"])
        first_epoch = resumed_from + 1
        if progress is not None:
            progress(
                _batch_progress(
                    resumed_from * batches,
                    config.epochs * batches,
                    f"resumed from epoch {resumed_from}/{config.epochs}",
                    {"epoch": resumed_from, "resumed_from_epoch": resumed_from},
                )
            )
    started = time.perf_counter()
    # A checkpoint written as early stopping struck resumes straight to the evaluation.
    stopped = bool(saved is not None and saved["stopped"])

    for epoch in range(first_epoch, config.epochs + 1):
        if stopped:
            break
        model.train()
        shuffler = torch.Generator().manual_seed(_epoch_seed(config.seed, epoch))
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
                progress(
                    _batch_progress(
                        (epoch - 1) * batches + batch + 1,
                        config.epochs * batches,
                        f"epoch {epoch}/{config.epochs}, batch {batch + 1}/{batches}",
                        # The last finished epoch's validation loss: a sweep prunes on it.
                        {"epoch": epoch, "batch": batch + 1, **_last_epoch(history)},
                    )
                )
        val = _evaluate(model, validation, plain_loss, target)
        val_loss = val["loss"] if val["loss"] is not None else epoch_loss / len(train)
        row = {
            "epoch": epoch,
            # Over the epoch's batches, in training mode (as the loss is).
            "train_loss": epoch_loss / len(train),
            "train_accuracy": epoch_correct / len(train),
            "val_loss": val_loss,
            "val_accuracy": val["accuracy"] or 0.0,
        }
        history.append(row)
        if val_loss < best_loss - stopping.min_delta:
            best_loss, best_epoch, stale = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
        stopped = stopping.enabled and stale >= stopping.patience
        if checkpoint is not None and checkpoint.due(epoch):
            checkpoint.save(
                key,
                epoch,
                {
                    "model": _cpu(model.state_dict()),
                    "optimiser": optimiser.state_dict(),
                    "best_loss": best_loss,
                    "best_epoch": best_epoch,
                    "best_state": _cpu(best_state) if best_state is not None else None,
                    "stale": stale,
                    "stopped": stopped,
                    "history": history,
                    "seconds": earlier_seconds + time.perf_counter() - started,
                    "rng": _rng_states(),
                },
            )
        if on_epoch_end is not None:
            on_epoch_end(epoch, {k: float(v) for k, v in row.items() if k != "epoch"})

    if best_state is not None:
        model.load_state_dict(best_state)
    metrics = {
        "train": _evaluate(model, train, plain_loss, target),
        "validation": _evaluate(model, validation, plain_loss, target),
        "test": _evaluate(model, dataset.splits["test"], plain_loss, target),
        "epochs_run": len(history),
        "best_epoch": best_epoch,
    }
    cpu_state = _cpu(model.state_dict())
    seconds = round(earlier_seconds + time.perf_counter() - started, 3)
    return TrainingOutput(cpu_state, metrics, history, str(target), seconds, resumed_from)


def _batch_progress(done: int, total: int, message: str, details: dict[str, Any]) -> Progress:
    """Training's progress, counted in batches over all epochs."""
    return Progress(
        percent=100.0 * done / total,
        message=message,
        items_done=done,
        items_total=total,
        details=details,
    )


def _last_epoch(history: list[dict[str, float]]) -> dict[str, float]:
    if not history:
        return {}
    return {"epochs_done": history[-1]["epoch"], "val_loss": history[-1]["val_loss"]}
