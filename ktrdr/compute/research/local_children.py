"""Children run one after another in this process (``ktrdr walkforward --local``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ktrdr.compute.backtesting.config import BacktestConfig
from ktrdr.compute.backtesting.pipeline import backtest_model
from ktrdr.compute.research.children import ChildSpec, ChildState, Watch
from ktrdr.compute.training.pipeline import train_strategy
from ktrdr.core.enums import OperationStatus, OperationType
from ktrdr.core.progress import CancelToken, OperationCancelledError, Progress, ProgressCallback
from ktrdr.core.protocol import BacktestParams, TrainingParams
from ktrdr.research.data.store import DataStore
from ktrdr.research.model_registry import resolve_model
from ktrdr.research.strategies import parse_strategy

PRUNED = "pruned by the sweep"


@dataclass(eq=False, repr=False)
class LocalChildren:
    """Each ``start`` runs the child to its end before it returns."""

    strategy_yaml: str
    store: DataStore
    models_dir: Path
    cancel: CancelToken
    progress: ProgressCallback | None = None
    _by_key: dict[str, str] = field(default_factory=dict, init=False)
    _states: dict[str, ChildState] = field(default_factory=dict, init=False)

    def start(self, child: ChildSpec, watch: Watch | None = None) -> str:
        key, op_type, params = child.key, child.type, child.params
        if key in self._by_key:
            return self._by_key[key]
        child_id = uuid.uuid4().hex
        self._by_key[key] = child_id
        yaml_text = child.strategy_yaml or self.strategy_yaml
        config = parse_strategy(yaml_text, source=f"child {key}")

        def report(progress: Progress) -> None:
            self.cancel.raise_if_cancelled()
            if watch is not None and watch(progress):
                raise OperationCancelledError(PRUNED)

        try:
            if op_type == OperationType.TRAINING:
                training = TrainingParams.model_validate(params)
                result = train_strategy(
                    config,
                    self.store,
                    self.models_dir,
                    symbols=training.symbols,
                    start=_iso(training.start_date),
                    end=_iso(training.end_date),
                    progress=report,
                    cancel=self.cancel,
                    publish=False,
                )
            else:
                backtest = BacktestParams.model_validate(params)
                model = resolve_model(
                    self.models_dir,
                    config.name,
                    config.training_data.base_timeframe,
                    backtest.model,
                )
                result = backtest_model(
                    model.path,
                    self.store,
                    symbol=backtest.symbol,
                    start=_iso(backtest.start_date),
                    end=_iso(backtest.end_date),
                    config=BacktestConfig(),
                    decisions=config.decisions,
                    cancel=self.cancel,
                )
            state = ChildState(child_id, OperationStatus.COMPLETED, result=result)
        except OperationCancelledError as error:
            if self.cancel.cancelled:
                raise
            state = ChildState(child_id, OperationStatus.CANCELLED, error=str(error))
        except Exception as error:  # a child's failure is its parent's to judge
            state = ChildState(
                child_id, OperationStatus.FAILED, error=f"{type(error).__name__}: {error}"
            )
        self._states[child_id] = state
        return child_id

    def state(self, child_id: str) -> ChildState:
        return self._states[child_id]

    def stop(self, key: str, reason: str) -> None:
        return None  # a local child has ended by the time its driver looks at it


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
