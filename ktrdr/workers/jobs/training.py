"""The training worker's job: train a dispatched strategy and store the model."""

from __future__ import annotations

from typing import Any

from ktrdr.compute.training.pipeline import train_strategy
from ktrdr.core.protocol import OperationDispatch, TrainingParams
from ktrdr.research.strategies import parse_strategy
from ktrdr.workers.context import JobContext


def run_training_job(ctx: JobContext, dispatch: OperationDispatch) -> dict[str, Any]:
    """Train the dispatched strategy; returns the training summary (with the model id).

    The parameters were checked against the strategy when the API accepted them.
    """
    params = dispatch.params
    assert isinstance(params, TrainingParams)
    strategy = parse_strategy(dispatch.strategy_yaml, source="dispatched strategy")
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
    )
