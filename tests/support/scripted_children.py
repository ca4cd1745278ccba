"""Children scripted for a driver's unit tests: each poll of a training is one epoch more.

Trials 0 and 1 learn (their validation loss falls); later ones do not (it stays high),
so a median pruner stops them. The real children, over HTTP on live workers, are in
tests/integration/test_research_scale.py.
"""

from __future__ import annotations

from typing import Any

from ktrdr.compute.research.children import ChildSpec, ChildState, Watch
from ktrdr.compute.research.sweep import SweepDriver
from ktrdr.compute.research.waiting import DriverContext
from ktrdr.core.enums import OperationStatus
from ktrdr.core.progress import CancelToken, Progress
from ktrdr.core.protocol import SweepParams
from ktrdr.research.strategies import parse_strategy
from tests.support.stack import canary_strategy

EPOCHS = 6
SPACE = {"indicators.rsi_14.params.period": {"low": 7, "high": 21}}
VALIDATION = ["2011-01-03T00:00:00+00:00", "2012-03-01T00:00:00+00:00"]


class ScriptedChildren:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.stopped: list[str] = []
        self._keys: dict[str, str] = {}
        self._epochs: dict[str, int] = {}
        self._params: dict[str, dict[str, Any]] = {}

    def start(self, child: ChildSpec, watch: Watch | None = None) -> str:
        key = child.key
        if key not in self._keys:
            self._keys[key] = key
            self.started.append(key)
            self._epochs[key] = 0
            self._params[key] = child.params
        return key

    def state(self, child_id: str) -> ChildState:
        key = child_id
        trial = int(key.split("-")[1]) if key.startswith("trial-") else -1
        if key in self.stopped:
            return ChildState(key, OperationStatus.CANCELLED, error="pruned")
        if key.endswith("-backtest"):
            value = 0.1 * (trial + 1) if key != "final-backtest" else 0.05
            metrics = {"total_return": value, "sharpe_ratio": value}
            result = {"metrics": metrics, "range": {"source": "test_split"}}
            return ChildState(key, OperationStatus.COMPLETED, result=result)
        self._epochs[key] += 1
        epochs = self._epochs[key]
        if epochs > EPOCHS:
            result = {
                "model_id": f"canary_smoke/1d_v{trial + 1}",
                "epochs_run": EPOCHS,
                "ranges": {"IBM": {"validation": VALIDATION}},
            }
            return ChildState(key, OperationStatus.COMPLETED, result=result)
        loss = 1.0 / epochs if trial < 2 else 5.0
        details = {"epochs_done": epochs, "val_loss": loss}
        return ChildState(key, OperationStatus.RUNNING, progress=Progress(details=details))

    def stop(self, key: str, reason: str) -> None:
        self.stopped.append(key)

    def params_of(self, key: str) -> dict[str, Any]:
        return self._params[key]


def driver(database: str, children: ScriptedChildren, op_id: str, **params: Any) -> SweepDriver:
    """A sweep driver over ``children`` with its study in ``database``."""
    text = canary_strategy()
    options = {"space": SPACE, "trials": 4, "objective": "total_return", "parallel": 1, "seed": 1}
    return SweepDriver(
        op_id,
        parse_strategy(text),
        text,
        SweepParams(**{**options, **params}),
        database,
        DriverContext(children, CancelToken(), poll_s=0.0),
    )
