"""What a job's parameters must agree on with its strategy (checked once, by the API)."""

from __future__ import annotations

from ktrdr.core.errors import InvalidInputError
from ktrdr.core.protocol import BacktestParams, JobParams, TrainingParams
from ktrdr.research.strategies.schema import StrategyConfig


def check_job_params(params: JobParams, config: StrategyConfig) -> None:
    """Raise InvalidInputError naming the field when ``params`` contradict ``config``.

    A strategy's timeframes shape its network's inputs, so a training cannot change them,
    and a backtest trades the first of them.
    """
    timeframes = config.training_data.timeframes
    if isinstance(params, TrainingParams) and params.timeframes not in (None, timeframes):
        raise InvalidInputError(
            f"timeframes {params.timeframes} do not match strategy {config.name!r}, which is "
            f"built on {timeframes}; change the strategy to change them",
            field="timeframes",
        )
    base = config.training_data.base_timeframe
    if isinstance(params, BacktestParams) and params.timeframe not in (None, base):
        raise InvalidInputError(
            f"timeframe {params.timeframe!r} does not match strategy {config.name!r}, which "
            f"trades {base} (its first training timeframe)",
            field="timeframe",
        )
