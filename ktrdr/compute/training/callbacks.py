"""What a caller may hook into a training: a callback after every epoch.

A hyper-parameter search (an Optuna pruner) reads each epoch's metrics and raises
:class:`TrainingPruned` to stop a trial that is not worth finishing. The trainer then
stops at once, stores nothing, and the exception reaches the caller of the pipeline.
Any other exception raised by the callback propagates as well (the training failed).
"""

from __future__ import annotations

from collections.abc import Callable

# (epoch, metrics) with metrics: train_loss, train_accuracy, val_loss, val_accuracy
EpochCallback = Callable[[int, dict[str, float]], None]


class TrainingPruned(Exception):  # noqa: N818  # the name says what happened, like Optuna's
    """Raised by an epoch callback: stop this training cleanly, it will not be kept."""

    def __init__(self, epoch: int, reason: str = "pruned") -> None:
        super().__init__(f"training pruned after epoch {epoch}: {reason}")
        self.epoch = epoch
        self.reason = reason
