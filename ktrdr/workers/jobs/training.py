"""The training worker's job: train a dispatched strategy and store the model."""

from __future__ import annotations

from typing import Any

from ktrdr.compute.training.checkpoint import Checkpoint
from ktrdr.compute.training.pipeline import train_strategy
from ktrdr.core.progress import OperationCancelledError
from ktrdr.core.protocol import OperationDispatch, TrainingParams
from ktrdr.core.settings import Settings
from ktrdr.research.model_registry import checkpoint_file
from ktrdr.research.strategies import parse_strategy
from ktrdr.workers.context import JobContext
from ktrdr.workers.executor import STALE_REASON


def checkpoint_for(settings: Settings, operation_id: str) -> Checkpoint | None:
    """The operation's checkpoint on the models volume; None when both periods are 0."""
    if not settings.checkpoint_every_epochs and not settings.checkpoint_every_seconds:
        return None
    return Checkpoint(
        checkpoint_file(settings.models_path, operation_id),
        every_epochs=settings.checkpoint_every_epochs,
        every_seconds=settings.checkpoint_every_seconds,
    )


def run_training_job(ctx: JobContext, dispatch: OperationDispatch) -> dict[str, Any]:
    """Train the dispatched strategy; returns the training summary (with the model id).

    The parameters were checked against the strategy when the API accepted them. Every
    attempt of one operation shares its checkpoint: an attempt dispatched after a worker
    was lost resumes where the lost one last saved, on whichever worker takes it.
    """
    params = dispatch.params
    assert isinstance(params, TrainingParams)
    strategy = parse_strategy(dispatch.strategy_yaml, source="dispatched strategy")
    checkpoint = checkpoint_for(ctx.settings, dispatch.operation_id)
    try:
        return train_strategy(
            strategy,
            ctx.data,
            ctx.settings.models_path,
            symbols=params.symbols,
            start=params.start_date,
            end=params.end_date,
            progress=ctx.progress,
            cancel=ctx.cancel,
            # `latest` moves when the backend accepts this operation's finish, not before:
            # a worker whose attempt was superseded never publishes.
            publish=False,
            checkpoint=checkpoint,
        )
    except OperationCancelledError:
        # Superseded: the attempt in force (another worker) resumes from the checkpoint.
        if checkpoint is not None and ctx.cancel.reason != STALE_REASON:
            checkpoint.remove()
        raise
    except Exception:
        # The operation fails for good (a failed finish is never re-queued).
        if checkpoint is not None:
            checkpoint.remove()
        raise
