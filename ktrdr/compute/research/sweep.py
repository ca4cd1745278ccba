"""The sweep driver: Optuna trials, each a child training then a child backtest on the
model's validation split; pruned from the epoch losses the training reports.

The study lives in the project's own database (Optuna's tables beside ktrdr's), named
after the parent operation (``ktrdr-sweep-<id>``), so a re-queued driver continues it
and ``resume`` continues an earlier sweep's. Children are keyed ``trial-<n>-train`` /
``trial-<n>-backtest`` by the study's trial number: a driver that comes back re-attaches
to the trials it had running instead of starting them again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import optuna
import yaml

from ktrdr.compute.research.children import ChildSpec
from ktrdr.compute.research.waiting import DriverContext
from ktrdr.core.enums import OperationStatus, OperationType
from ktrdr.core.progress import Progress
from ktrdr.core.protocol import SWEEP_OBJECTIVES, SweepParams
from ktrdr.research.scale.space import Dimension, apply_values, check_space
from ktrdr.research.strategies.loader import validate_strategy_data
from ktrdr.research.strategies.schema import StrategyConfig

TrialState = optuna.trial.TrialState
PARENT_ATTR = "ktrdr_parent"
# The median pruner waits for this many finished trials and epochs before it prunes.
PRUNER_STARTUP_TRIALS = 2
PRUNER_WARMUP_EPOCHS = 2


def study_name(operation_id: str) -> str:
    return f"ktrdr-sweep-{operation_id}"


def best_strategy_name(strategy: str, operation_id: str) -> str:
    suffix = f"_sweep_{operation_id[:8]}"
    return strategy[: 64 - len(suffix)] + suffix


def open_storage(storage_url: str) -> optuna.storages.RDBStorage:
    """Optuna's storage in ktrdr's own database.

    ktrdr's migrations own the shared ``alembic_version`` table, and Optuna's schema
    check reads that table (and would refuse ktrdr's revision), so the check is skipped;
    Optuna's own tables are created beside ktrdr's as they are.
    """
    engine_kwargs: dict[str, Any] = {}
    if storage_url.startswith("sqlite"):
        engine_kwargs["connect_args"] = {"timeout": 30}  # the backend writes there too
    return optuna.storages.RDBStorage(
        storage_url, skip_compatibility_check=True, engine_kwargs=engine_kwargs
    )


def open_study(storage_url: str, name: str, params: SweepParams) -> optuna.Study:
    """The study ``name`` in the database at ``storage_url``, created if new."""
    storage = open_storage(storage_url)
    sampler: optuna.samplers.BaseSampler = (
        optuna.samplers.TPESampler(seed=params.seed)
        if params.sampler == "tpe"
        else optuna.samplers.RandomSampler(seed=params.seed)
    )
    pruner: optuna.pruners.BasePruner = (
        optuna.pruners.MedianPruner(
            n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=PRUNER_WARMUP_EPOCHS
        )
        if params.pruning
        else optuna.pruners.NopPruner()
    )
    return optuna.create_study(
        study_name=name,
        storage=storage,
        direction=SWEEP_OBJECTIVES[params.objective],
        sampler=sampler,
        pruner=pruner,
        load_if_exists=True,
    )


def suggest(trial: optuna.Trial, dimensions: list[Dimension]) -> dict[str, Any]:
    """One value per dimension; choices are sampled by index (Optuna stores scalars)."""
    values: dict[str, Any] = {}
    for d in dimensions:
        if d.choices is not None:
            index = trial.suggest_categorical(d.path, list(range(len(d.choices))))
            values[d.path] = d.choices[int(index)]
        elif d.is_int:
            step = int(d.step or 1)
            values[d.path] = trial.suggest_int(
                d.path, int(d.low or 0), int(d.high or 0), step=step, log=d.log
            )
        else:
            values[d.path] = trial.suggest_float(
                d.path, float(d.low or 0), float(d.high or 0), step=d.step, log=d.log
            )
    return values


@dataclass
class _Trial:
    trial: optuna.Trial
    values: dict[str, Any]
    strategy_yaml: str
    sign: float
    stage: str = "train"
    child_id: str = ""
    last_step: int = 0
    pruned: bool = False
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def number(self) -> int:
        return self.trial.number

    def watch(self, progress: Progress) -> bool:
        """Report the last finished epoch's validation loss; True once it should stop."""
        step, loss = progress.details.get("epochs_done"), progress.details.get("val_loss")
        if not isinstance(step, int) or not isinstance(loss, int | float) or step <= self.last_step:
            return False
        self.last_step = step
        self.trial.report(self.sign * float(loss), step)
        if self.trial.should_prune():
            self.pruned = True
        return self.pruned


class SweepDriver:
    def __init__(
        self,
        operation_id: str,
        config: StrategyConfig,
        strategy_yaml: str,
        params: SweepParams,
        storage_url: str,
        ctx: DriverContext,
    ) -> None:
        self.operation_id = operation_id
        self.config = config
        self.raw = yaml.safe_load(strategy_yaml)
        self.params = params
        self.ctx = ctx
        self.dimensions = check_space(params.space, self.raw)
        self.name = study_name(params.resume or operation_id)
        self.study = open_study(storage_url, self.name, params)
        maximize = SWEEP_OBJECTIVES[params.objective] == "maximize"
        # Intermediate values must improve in the study's direction: -loss when maximising.
        self.sign = -1.0 if maximize else 1.0
        self.records: dict[int, dict[str, Any]] = {}

    def run(self) -> dict[str, Any]:
        in_flight = self._reattach()
        mine = [t for t in self.study.get_trials(deepcopy=False) if self._is_mine(t)]
        started = len(mine)
        for frozen in mine:
            if frozen.state.is_finished():
                self.records[frozen.number] = self._record_of(frozen)
        while True:
            self.ctx.cancel.raise_if_cancelled()
            while len(in_flight) < self.params.parallel and started < self.params.trials:
                started += 1
                fresh = self._ask()
                if fresh is not None:
                    in_flight.append(fresh)
            for current in list(in_flight):
                if self._advance(current):
                    in_flight.remove(current)
            finished = len(self.records)
            self.ctx.report(
                finished,
                self.params.trials + 1,
                f"{finished}/{self.params.trials} trials",
            )
            if not in_flight and started >= self.params.trials:
                break
            self.ctx.pause()
        return self._result()

    # -- trials -------------------------------------------------------------------------

    def _is_mine(self, frozen: optuna.trial.FrozenTrial) -> bool:
        return frozen.user_attrs.get(PARENT_ATTR) == self.operation_id

    def _reattach(self) -> list[_Trial]:
        """Trials left running: this parent's are taken up again, others' failed."""
        again = []
        for frozen in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if not self._is_mine(frozen):
                self.study.tell(frozen.number, state=TrialState.FAIL)
                continue
            trial = optuna.trial.Trial(self.study, frozen._trial_id)
            values = frozen.user_attrs.get("values", {})
            text = yaml.safe_dump(apply_values(self.raw, values), sort_keys=False)
            current = _Trial(trial, values, text, self.sign)
            current.last_step = max(frozen.intermediate_values, default=0)
            self._start_training(current)
            again.append(current)
        return again

    def _ask(self) -> _Trial | None:
        trial = self.study.ask()
        trial.set_user_attr(PARENT_ATTR, self.operation_id)
        values = suggest(trial, self.dimensions)
        trial.set_user_attr("values", values)
        data = apply_values(self.raw, values)
        config, issues = validate_strategy_data(data)
        if config is None:
            error = "; ".join(str(i) for i in issues)[:500]
            trial.set_user_attr("error", error)
            self.study.tell(trial, state=TrialState.FAIL)
            self.records[trial.number] = self._record_of(self.study.trials[trial.number])
            return None
        current = _Trial(trial, values, yaml.safe_dump(data, sort_keys=False), self.sign)
        self._start_training(current)
        return current

    def _start_training(self, current: _Trial) -> None:
        key = f"trial-{current.number}-train"
        spec = ChildSpec(key, OperationType.TRAINING, {}, current.strategy_yaml)
        current.child_id = self.ctx.children.start(spec, watch=current.watch)

    def _advance(self, current: _Trial) -> bool:
        """One look at the trial's child; True once the trial is over."""
        state = self.ctx.children.state(current.child_id)
        trial = current.trial
        if not state.status.is_terminal:
            if current.stage == "train" and current.watch(state.progress):
                self.ctx.children.stop(f"trial-{current.number}-train", "pruned by the sweep")
            return False
        if state.status == OperationStatus.CANCELLED and current.pruned:
            return self._end(current, TrialState.PRUNED)
        if state.status != OperationStatus.COMPLETED or state.result is None:
            trial.set_user_attr("error", f"{current.stage} {state.status}: {state.error}"[:500])
            return self._end(current, TrialState.FAIL)
        if current.stage == "train":
            trial.set_user_attr("model_id", state.result["model_id"])
            trial.set_user_attr("training_id", current.child_id)
            trial.set_user_attr("epochs_run", state.result.get("epochs_run"))
            symbol = self.config.training_data.symbols[0]
            window = (state.result.get("ranges") or {}).get(symbol, {}).get("validation")
            if not window:
                trial.set_user_attr("error", f"the model has no validation split of {symbol}")
                return self._end(current, TrialState.FAIL)
            current.stage = "backtest"
            params = {
                "model": state.result["model_id"],
                "symbol": symbol,
                "start_date": str(window[0])[:10],
                "end_date": str(window[1])[:10],
            }
            key = f"trial-{current.number}-backtest"
            spec = ChildSpec(key, OperationType.BACKTESTING, params, current.strategy_yaml)
            current.child_id = self.ctx.children.start(spec)
            return False
        trial.set_user_attr("backtest_id", current.child_id)
        value = _objective(state.result, self.params.objective)
        if value is None:
            trial.set_user_attr("error", f"{self.params.objective} is undefined on validation")
            return self._end(current, TrialState.FAIL)
        self.study.tell(trial, value)
        self.records[current.number] = self._record_of(self.study.trials[current.number])
        return True

    def _end(self, current: _Trial, state: TrialState) -> bool:
        self.study.tell(current.trial, state=state)
        self.records[current.number] = self._record_of(self.study.trials[current.number])
        return True

    def _record_of(self, frozen: optuna.trial.FrozenTrial) -> dict[str, Any]:
        attrs = frozen.user_attrs
        return {
            "number": frozen.number,
            "state": frozen.state.name.lower(),
            # A pruned trial's Optuna value is its last intermediate one (a loss): no score.
            "value": frozen.value if frozen.state == TrialState.COMPLETE else None,
            "values": attrs.get("values", {}),
            "model_id": attrs.get("model_id"),
            "training_id": attrs.get("training_id"),
            "backtest_id": attrs.get("backtest_id"),
            "epochs_run": attrs.get("epochs_run"),
            "last_epoch_reported": max(frozen.intermediate_values, default=None),
            "error": attrs.get("error"),
        }

    # -- the end ------------------------------------------------------------------------

    def _result(self) -> dict[str, Any]:
        trials = [self.records[n] for n in sorted(self.records)]
        counts = {
            s: sum(1 for t in trials if t["state"] == s) for s in ("complete", "pruned", "fail")
        }
        direction = SWEEP_OBJECTIVES[self.params.objective]
        history, best_so_far = [], None
        for t in trials:
            if t["state"] == "complete":
                better = best_so_far is None or (
                    t["value"] > best_so_far
                    if direction == "maximize"
                    else t["value"] < best_so_far
                )
                best_so_far = t["value"] if better else best_so_far
            history.append({"number": t["number"], "value": t["value"], "best": best_so_far})
        result: dict[str, Any] = {
            "strategy": self.config.name,
            "study_name": self.name,
            "objective": self.params.objective,
            "direction": direction,
            "sampler": self.params.sampler,
            "trials_requested": self.params.trials,
            "counts": counts,
            "trials": trials,
            "history": history,
            "space": {d.path: _describe(d) for d in self.dimensions},
            "best": None,
        }
        complete = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if complete:
            result["best"] = self._final(self.study.best_trial)
        self.ctx.report(len(trials) + 1, self.params.trials + 1, "done")
        return result

    def _final(self, best: optuna.trial.FrozenTrial) -> dict[str, Any]:
        """The best trial's strategy, backtested once on its model's untouched test split."""
        values = best.user_attrs.get("values", {})
        data = apply_values(self.raw, values)
        text = yaml.safe_dump(data, sort_keys=False)
        model_id = best.user_attrs.get("model_id")
        # The symbol the trials were scored on; the dates: the model's test split.
        symbol = self.config.training_data.symbols[0]
        params = {"model": model_id, "symbol": symbol}
        child_id = self.ctx.children.start(
            ChildSpec("final-backtest", OperationType.BACKTESTING, params, text)
        )
        while not (state := self.ctx.children.state(child_id)).status.is_terminal:
            self.ctx.pause()
        name = best_strategy_name(self.config.name, self.operation_id)
        renamed = yaml.safe_dump({**data, "name": name}, sort_keys=False)
        test: dict[str, Any] | None = None
        if state.status == OperationStatus.COMPLETED and state.result is not None:
            test = {
                "backtest_id": child_id,
                "metrics": state.result.get("metrics"),
                "benchmark": state.result.get("benchmark"),
                "excess_return": state.result.get("excess_return"),
                "range": state.result.get("range"),
            }
        return {
            "number": best.number,
            "value": best.value,
            "values": values,
            "model_id": model_id,
            "strategy_name": name,
            "strategy_yaml": renamed,
            "test_backtest": test,
            "test_error": None if test else f"final backtest {state.status}: {state.error}",
        }


def _objective(result: dict[str, Any], objective: str) -> float | None:
    value = (
        result.get("excess_return")
        if objective == "excess_return"
        else (result.get("metrics") or {}).get(objective)
    )
    return float(value) if isinstance(value, int | float) else None


def _describe(d: Dimension) -> dict[str, Any]:
    if d.choices is not None:
        return {"choices": list(d.choices)}
    return {"low": d.low, "high": d.high, "step": d.step, "log": d.log}
