"""The strategy YAML schema (pydantic): structure and per-field rules.

Cross-references (fuzzy sets -> indicators, nn_inputs -> fuzzy sets) are checked in
:mod:`ktrdr.research.strategies.references`, which needs the whole document.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ktrdr.core.names import validate_identifier, validate_symbol
from ktrdr.core.timeframes import validate_timeframe

# What keeps one training within a worker's memory: the network's size and its inputs.
MAX_LAYERS = 8
MAX_UNITS = 4096
MAX_WEIGHTS = 20_000_000  # between hidden layers; a float32 each, times Adam's state
MAX_ITEMS = 100  # indicators, fuzzy sets, network inputs, terms of a set
MAX_SEED = 2**32 - 1  # what numpy and torch accept
MAX_EMBARGO_BARS = 10_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_identifier(value: str, what: str) -> str:
    return validate_identifier(value, what)


def _check_timeframe(value: str) -> str:
    return validate_timeframe(value)


class IndicatorConfig(_Strict):
    type: str
    params: dict[str, Any] = Field(default_factory=dict)


class MembershipFunction(_Strict):
    """One fuzzy term: ``[a, b, c]`` (triangular) or ``{type, parameters}``."""

    type: Literal["triangular", "trapezoidal", "gaussian"]
    parameters: list[Annotated[float, Field(allow_inf_nan=False)]] = Field(max_length=4)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return {"type": "triangular", "parameters": list(value)}
        return value

    @model_validator(mode="after")
    def _check_shape(self) -> MembershipFunction:
        p = self.parameters
        if self.type == "triangular":
            if len(p) != 3 or not (p[0] <= p[1] <= p[2]) or p[0] == p[2]:
                raise ValueError(f"expected three numbers a <= b <= c with a < c, got {p}")
        elif self.type == "trapezoidal":
            if len(p) != 4 or not (p[0] <= p[1] <= p[2] <= p[3]) or p[0] == p[3]:
                raise ValueError(f"expected four numbers a <= b <= c <= d with a < d, got {p}")
        elif len(p) != 2 or p[1] <= 0:
            raise ValueError(f"expected [mean, sigma] with sigma > 0, got {p}")
        return self


class FuzzySetConfig(_Strict):
    """``{indicator: <ref>, <term>: <membership>, ...}`` in YAML."""

    indicator: str
    terms: dict[str, MembershipFunction] = Field(max_length=MAX_ITEMS)

    @model_validator(mode="before")
    @classmethod
    def _collect_terms(cls, value: Any) -> Any:
        if isinstance(value, dict) and "terms" not in value:
            terms = {k: v for k, v in value.items() if k != "indicator"}
            return {"indicator": value.get("indicator"), "terms": terms}
        return value

    @field_validator("terms")
    @classmethod
    def _at_least_one_term(
        cls, terms: dict[str, MembershipFunction]
    ) -> dict[str, MembershipFunction]:
        if not terms:
            raise ValueError("a fuzzy set needs at least one term")
        for name in terms:
            _check_identifier(name, "term name")
        return terms

    def to_yaml_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"indicator": self.indicator}
        for name, term in self.terms.items():
            out[name] = {"type": term.type, "parameters": list(term.parameters)}
        return out


class NNInput(_Strict):
    """One group of network inputs: a fuzzy set's memberships or a raw indicator output."""

    fuzzy_set: str | None = None
    indicator: str | None = None
    # None: every timeframe of training_data
    timeframes: list[str] | None = Field(default=None, max_length=10)

    @model_validator(mode="after")
    def _exactly_one_source(self) -> NNInput:
        if (self.fuzzy_set is None) == (self.indicator is None):
            raise ValueError("give exactly one of 'fuzzy_set' or 'indicator'")
        return self

    @field_validator("timeframes")
    @classmethod
    def _timeframes(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("omit timeframes or list at least one")
            for tf in value:
                _check_timeframe(tf)
        return value


class ModelConfig(_Strict):
    type: Literal["mlp"] = "mlp"
    hidden_layers: list[int] = Field(default_factory=lambda: [32, 16], max_length=MAX_LAYERS)
    dropout: float = Field(default=0.2, ge=0.0, lt=1.0)
    activation: Literal["relu", "tanh", "gelu", "leaky_relu"] = "relu"

    @field_validator("hidden_layers")
    @classmethod
    def _layers(cls, value: list[int]) -> list[int]:
        if not value or any(n < 1 or n > MAX_UNITS for n in value):
            raise ValueError(f"expected one or more layer sizes between 1 and {MAX_UNITS}")
        weights = sum(a * b for a, b in itertools.pairwise(value))
        if weights > MAX_WEIGHTS:
            raise ValueError(
                f"{weights} weights between the hidden layers; at most {MAX_WEIGHTS} fit a worker"
            )
        return value


class DecisionsConfig(_Strict):
    confidence_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    position_awareness: bool = True
    allow_short_from_flat: bool = False


class EarlyStoppingConfig(_Strict):
    enabled: bool = True
    patience: int = Field(default=8, ge=1)
    min_delta: float = Field(default=1e-4, ge=0.0)


class LabelsConfig(_Strict):
    source: Literal["zigzag", "forward_return"] = "zigzag"
    threshold: float = Field(default=0.02, gt=0.0, lt=1.0)
    lookahead: int = Field(default=10, ge=1, le=500)


class DataSplitConfig(_Strict):
    train: float = Field(default=0.7, gt=0.0, lt=1.0)
    validation: float = Field(default=0.15, gt=0.0, lt=1.0)
    test: float = Field(default=0.15, gt=0.0, lt=1.0)
    # Rows dropped at the start of validation and test, after the purge of the rows whose
    # label looks into the next split: a gap against serially correlated features.
    embargo_bars: int = Field(default=0, ge=0, le=MAX_EMBARGO_BARS)

    @model_validator(mode="after")
    def _sums_to_one(self) -> DataSplitConfig:
        total = self.train + self.validation + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + validation + test must equal 1, got {total:g}")
        return self


class TrainingConfig(_Strict):
    epochs: int = Field(default=50, ge=1, le=10_000)
    batch_size: int = Field(default=64, ge=1, le=65_536)
    learning_rate: float = Field(default=1e-3, gt=0.0, le=1.0, allow_inf_nan=False)
    weight_decay: float = Field(default=0.0, ge=0.0, le=1.0, allow_inf_nan=False)
    early_stopping: EarlyStoppingConfig = Field(default_factory=EarlyStoppingConfig)
    labels: LabelsConfig = Field(default_factory=LabelsConfig)
    data_split: DataSplitConfig = Field(default_factory=DataSplitConfig)
    seed: int = Field(default=42, ge=0, le=MAX_SEED)


class TrainingDataConfig(_Strict):
    symbols: list[str] = Field(max_length=50)
    timeframes: list[str] = Field(default_factory=lambda: ["1d"], max_length=10)
    start_date: dt.date | None = None
    end_date: dt.date | None = None

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("list at least one symbol")
        for symbol in value:
            validate_symbol(symbol)
        return value

    @field_validator("timeframes")
    @classmethod
    def _timeframes(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("list at least one timeframe; the first is the trading timeframe")
        if len(set(value)) != len(value):
            raise ValueError("timeframes must be distinct")
        for tf in value:
            _check_timeframe(tf)
        return value

    @model_validator(mode="after")
    def _date_order(self) -> TrainingDataConfig:
        if self.start_date and self.end_date and self.start_date >= self.end_date:
            raise ValueError("start_date must be before end_date")
        return self

    @property
    def base_timeframe(self) -> str:
        return self.timeframes[0]


class StrategyConfig(_Strict):
    name: str
    version: str = Field(default="1.0", max_length=64)
    description: str = Field(default="", max_length=2000)
    indicators: dict[str, IndicatorConfig] = Field(max_length=MAX_ITEMS)
    fuzzy_sets: dict[str, FuzzySetConfig] = Field(default_factory=dict, max_length=MAX_ITEMS)
    nn_inputs: list[NNInput] = Field(max_length=MAX_ITEMS)
    model: ModelConfig = Field(default_factory=ModelConfig)
    decisions: DecisionsConfig = Field(default_factory=DecisionsConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    training_data: TrainingDataConfig

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        # YAML reads `version: 1.0` as a float; a version is text.
        return str(value) if isinstance(value, int | float) else value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_identifier(value, "strategy name")

    @field_validator("indicators")
    @classmethod
    def _indicator_ids(cls, value: dict[str, IndicatorConfig]) -> dict[str, IndicatorConfig]:
        if not value:
            raise ValueError("define at least one indicator")
        for key in value:
            _check_identifier(key, "indicator id")
        return value

    @field_validator("fuzzy_sets")
    @classmethod
    def _fuzzy_ids(cls, value: dict[str, FuzzySetConfig]) -> dict[str, FuzzySetConfig]:
        for key in value:
            _check_identifier(key, "fuzzy set id")
        return value

    @field_validator("nn_inputs")
    @classmethod
    def _some_inputs(cls, value: list[NNInput]) -> list[NNInput]:
        if not value:
            raise ValueError("list at least one network input")
        return value

    def to_yaml_dict(self) -> dict[str, Any]:
        """A plain dict that round-trips through YAML to an equal config."""
        data = self.model_dump(mode="json", exclude_none=False)
        data["fuzzy_sets"] = {k: v.to_yaml_dict() for k, v in self.fuzzy_sets.items()}
        data["nn_inputs"] = [i.model_dump(mode="json", exclude_none=True) for i in self.nn_inputs]
        return data
