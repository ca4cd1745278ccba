"""What indicators exist, their parameters and outputs: plain data, no numpy.

The backend serves this catalogue and validates strategies against it; the compute
engine (:mod:`ktrdr.compute.indicators`) maps each entry onto a TA-Lib function.

A strategy refers to an indicator output as ``<indicator id>`` (the first, primary
output) or ``<indicator id>.<output>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ParamKind = Literal["int", "float"]
PriceInput = Literal["open", "high", "low", "close", "volume"]


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: ParamKind
    default: int | float
    minimum: int | float
    maximum: int | float
    description: str = ""

    def check(self, value: Any) -> str | None:
        """An error message for ``value``, or None when it is acceptable."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected a number, got {value!r}"
        if self.kind == "int" and not float(value).is_integer():
            return f"expected an integer, got {value!r}"
        if not self.minimum <= value <= self.maximum:
            return f"must be between {self.minimum} and {self.maximum}, got {value!r}"
        return None


@dataclass(frozen=True)
class IndicatorSpec:
    name: str
    title: str
    talib_function: str
    inputs: tuple[PriceInput, ...]
    params: tuple[ParamSpec, ...]
    outputs: tuple[str, ...]
    description: str = ""
    # Outputs computed from TA-Lib's results and the close, e.g. a band position.
    derived_outputs: tuple[str, ...] = field(default=())

    @property
    def primary_output(self) -> str:
        return self.outputs[0]

    @property
    def all_outputs(self) -> tuple[str, ...]:
        return self.outputs + self.derived_outputs

    def param(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)

    def resolve_params(self, given: dict[str, Any]) -> dict[str, int | float]:
        """Defaults overlaid with ``given``; assumes ``validate_params`` found no error."""
        resolved: dict[str, int | float] = {p.name: p.default for p in self.params}
        for name, value in given.items():
            spec = self.param(name)
            if spec is not None:
                resolved[name] = int(value) if spec.kind == "int" else float(value)
        return resolved

    def validate_params(self, given: dict[str, Any]) -> dict[str, str]:
        """Parameter name -> error message, for every unknown or out-of-range value."""
        errors: dict[str, str] = {}
        for name, value in given.items():
            spec = self.param(name)
            if spec is None:
                known = ", ".join(p.name for p in self.params) or "none"
                errors[name] = f"unknown parameter for {self.name} (known: {known})"
            elif (message := spec.check(value)) is not None:
                errors[name] = message
        return errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputs": list(self.inputs),
            "params": [
                {
                    "name": p.name,
                    "type": p.kind,
                    "default": p.default,
                    "min": p.minimum,
                    "max": p.maximum,
                    "description": p.description,
                }
                for p in self.params
            ],
            "outputs": list(self.all_outputs),
            "primary_output": self.primary_output,
        }


def _period(default: int, name: str = "period", minimum: int = 2) -> ParamSpec:
    return ParamSpec(name, "int", default, minimum, 500, "look-back in bars")


def _moving_average(name: str, title: str, description: str) -> IndicatorSpec:
    """A moving average of the close (TA-Lib's function of the same name, in capitals): one
    period, 20 by default, and the derived 'distance' (close / average - 1)."""
    return IndicatorSpec(
        name,
        title,
        name.upper(),
        ("close",),
        (_period(20),),
        ("value",),
        description,
        derived_outputs=("distance",),
    )


_HLC: tuple[PriceInput, ...] = ("high", "low", "close")

_SPECS = (
    IndicatorSpec(
        "rsi",
        "Relative Strength Index",
        "RSI",
        ("close",),
        (_period(14),),
        ("value",),
        "Wilder-smoothed momentum oscillator, 0-100.",
    ),
    _moving_average(
        "sma",
        "Simple Moving Average",
        "Arithmetic mean of the close; 'distance' is close / sma - 1.",
    ),
    _moving_average(
        "ema",
        "Exponential Moving Average",
        "Exponentially weighted mean of the close; 'distance' is close / ema - 1.",
    ),
    IndicatorSpec(
        "macd",
        "Moving Average Convergence Divergence",
        "MACD",
        ("close",),
        (
            _period(12, "fast_period"),
            _period(26, "slow_period"),
            _period(9, "signal_period", minimum=1),
        ),
        ("macd", "signal", "hist"),
        "Difference of two EMAs, its signal line and their histogram.",
    ),
    IndicatorSpec(
        "bbands",
        "Bollinger Bands",
        "BBANDS",
        ("close",),
        (
            _period(20),
            ParamSpec("std_dev", "float", 2.0, 0.1, 10.0, "band width in standard deviations"),
        ),
        ("upper", "middle", "lower"),
        "SMA +/- k population standard deviations; 'percent_b' is the close's position "
        "in the band (0 = lower, 1 = upper), 'bandwidth' is (upper - lower) / middle.",
        derived_outputs=("percent_b", "bandwidth"),
    ),
    IndicatorSpec(
        "atr",
        "Average True Range",
        "ATR",
        _HLC,
        (_period(14, minimum=1),),
        ("value",),
        "Wilder-smoothed true range; 'percent' is atr / close.",
        derived_outputs=("percent",),
    ),
    IndicatorSpec(
        "stoch",
        "Stochastic Oscillator",
        "STOCH",
        _HLC,
        (
            _period(14, "k_period", minimum=1),
            _period(3, "k_slowing", minimum=1),
            _period(3, "d_period", minimum=1),
        ),
        ("k", "d"),
        "Slow %K and %D, 0-100.",
    ),
    IndicatorSpec(
        "adx",
        "Average Directional Index",
        "ADX",
        _HLC,
        (_period(14),),
        ("value",),
        "Trend strength, 0-100.",
    ),
    IndicatorSpec(
        "cci",
        "Commodity Channel Index",
        "CCI",
        _HLC,
        (_period(20),),
        ("value",),
        "Deviation of the typical price from its mean.",
    ),
    IndicatorSpec(
        "willr",
        "Williams %R",
        "WILLR",
        _HLC,
        (_period(14),),
        ("value",),
        "Close relative to the high-low range, -100-0.",
    ),
    IndicatorSpec(
        "roc",
        "Rate of Change",
        "ROC",
        ("close",),
        (_period(10, minimum=1),),
        ("value",),
        "Percent change over the period.",
    ),
    IndicatorSpec(
        "mom",
        "Momentum",
        "MOM",
        ("close",),
        (_period(10, minimum=1),),
        ("value",),
        "Close minus the close `period` bars ago.",
    ),
    IndicatorSpec(
        "obv",
        "On-Balance Volume",
        "OBV",
        ("close", "volume"),
        (),
        ("value",),
        "Cumulative volume signed by the close's direction.",
    ),
    IndicatorSpec(
        "mfi",
        "Money Flow Index",
        "MFI",
        ("high", "low", "close", "volume"),
        (_period(14),),
        ("value",),
        "Volume-weighted RSI, 0-100.",
    ),
)

CATALOGUE: dict[str, IndicatorSpec] = {spec.name: spec for spec in _SPECS}


def get_indicator(name: str) -> IndicatorSpec | None:
    """The catalogue entry for ``name`` (case-insensitive), or None."""
    return CATALOGUE.get(name.lower())


def split_reference(reference: str) -> tuple[str, str | None]:
    """``"macd_fast.hist"`` -> ``("macd_fast", "hist")``; ``"rsi_14"`` -> ``("rsi_14", None)``."""
    indicator_id, _, output = reference.partition(".")
    return indicator_id, output or None
