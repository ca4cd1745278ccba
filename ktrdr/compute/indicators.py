"""Compute catalogue indicators with TA-Lib.

Each catalogue entry maps onto one TA-Lib function: catalogue parameter names are
translated to TA-Lib keywords, TA-Lib's outputs are named after ``spec.outputs`` (same
order), and derived outputs are computed from them and the close.

Compute-stack only: the control plane must import :mod:`ktrdr.research.indicator_catalogue`,
never this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import talib
from talib import abstract

from ktrdr.research.indicator_catalogue import (
    CATALOGUE,
    IndicatorSpec,
    get_indicator,
    split_reference,
)
from ktrdr.research.strategies.schema import IndicatorConfig

# Catalogue parameter -> TA-Lib keyword(s); a tuple feeds one value to several keywords.
_TALIB_PARAMS: dict[str, dict[str, str | tuple[str, ...]]] = {
    "rsi": {"period": "timeperiod"},
    "sma": {"period": "timeperiod"},
    "ema": {"period": "timeperiod"},
    "macd": {
        "fast_period": "fastperiod",
        "slow_period": "slowperiod",
        "signal_period": "signalperiod",
    },
    "bbands": {"period": "timeperiod", "std_dev": ("nbdevup", "nbdevdn")},
    "atr": {"period": "timeperiod"},
    "stoch": {
        "k_period": "fastk_period",
        "k_slowing": "slowk_period",
        "d_period": "slowd_period",
    },
    "adx": {"period": "timeperiod"},
    "cci": {"period": "timeperiod"},
    "willr": {"period": "timeperiod"},
    "roc": {"period": "timeperiod"},
    "mom": {"period": "timeperiod"},
    "obv": {},
    "mfi": {"period": "timeperiod"},
}

# Pinned so a change of TA-Lib defaults cannot silently change results (0 = SMA).
_TALIB_FIXED: dict[str, dict[str, int]] = {
    "bbands": {"matype": 0},
    "stoch": {"slowk_matype": 0, "slowd_matype": 0},
}

Outputs = dict[str, np.ndarray]


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is zero (no inf downstream)."""
    out = np.full_like(numerator, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _distance(out: Outputs, close: np.ndarray) -> Outputs:
    return {"distance": _ratio(close, out["value"]) - 1.0}


def _band_position(out: Outputs, close: np.ndarray) -> Outputs:
    width = out["upper"] - out["lower"]
    # A zero-width band (flat prices) has no position inside it.
    return {
        "percent_b": _ratio(close - out["lower"], width),
        "bandwidth": _ratio(width, out["middle"]),
    }


def _atr_percent(out: Outputs, close: np.ndarray) -> Outputs:
    return {"percent": _ratio(out["value"], close)}


_DERIVED: dict[str, Callable[[Outputs, np.ndarray], Outputs]] = {
    "sma": _distance,
    "ema": _distance,
    "bbands": _band_position,
    "atr": _atr_percent,
}


def _spec(indicator_type: str) -> IndicatorSpec:
    spec = get_indicator(indicator_type)
    if spec is None:
        known = ", ".join(CATALOGUE)
        raise ValueError(f"unknown indicator type {indicator_type!r} (known: {known})")
    return spec


def talib_kwargs(spec: IndicatorSpec, params: Mapping[str, Any]) -> dict[str, int | float]:
    """TA-Lib keyword arguments for ``params``: validated, defaults filled in, renamed."""
    errors = spec.validate_params(dict(params))
    if errors:
        detail = "; ".join(f"{name}: {message}" for name, message in errors.items())
        raise ValueError(f"invalid parameters for {spec.name}: {detail}")
    kwargs: dict[str, int | float] = dict(_TALIB_FIXED.get(spec.name, {}))
    for name, value in spec.resolve_params(dict(params)).items():
        targets = _TALIB_PARAMS[spec.name][name]
        for target in (targets,) if isinstance(targets, str) else targets:
            kwargs[target] = value
    return kwargs


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    # TA-Lib rejects anything but contiguous float64 arrays.
    return np.ascontiguousarray(frame[name].to_numpy(dtype=np.float64))


def compute_indicator(
    indicator_type: str, params: Mapping[str, Any], frame: pd.DataFrame
) -> pd.DataFrame:
    """One indicator on an OHLCV frame: a column per output in ``spec.all_outputs``.

    Rows before the indicator's warm-up are NaN; so is a derived ratio whose
    denominator is zero.
    """
    spec = _spec(indicator_type)
    kwargs = talib_kwargs(spec, params)
    missing = [c for c in (*spec.inputs, "close") if c not in frame.columns]
    if missing:
        raise ValueError(f"{spec.name} needs columns {sorted(set(missing))} in the frame")

    if len(frame) == 0:
        return pd.DataFrame(
            {name: pd.Series(dtype=np.float64) for name in spec.all_outputs}, index=frame.index
        )
    function = getattr(talib, spec.talib_function)
    result = function(*(_column(frame, name) for name in spec.inputs), **kwargs)
    arrays = (result,) if isinstance(result, np.ndarray) else tuple(result)
    outputs: Outputs = dict(zip(spec.outputs, arrays, strict=True))
    if spec.derived_outputs:
        outputs.update(_DERIVED[spec.name](outputs, _column(frame, "close")))
    return pd.DataFrame({name: outputs[name] for name in spec.all_outputs}, index=frame.index)


def compute_indicators(
    indicators: Mapping[str, IndicatorConfig], frame: pd.DataFrame
) -> pd.DataFrame:
    """Every output of every indicator, as columns ``"<id>.<output>"``, in definition order."""
    parts = []
    for indicator_id, config in indicators.items():
        part = compute_indicator(config.type, config.params, frame)
        parts.append(part.add_prefix(f"{indicator_id}."))
    if not parts:
        return pd.DataFrame(index=frame.index)
    return pd.concat(parts, axis=1)


def column_for(reference: str, indicators: Mapping[str, IndicatorConfig]) -> str:
    """The :func:`compute_indicators` column for a strategy reference.

    ``"rsi_14"`` -> ``"rsi_14.value"`` (the primary output); ``"macd_std.hist"`` is kept.
    """
    indicator_id, output = split_reference(reference)
    if indicator_id not in indicators:
        defined = ", ".join(indicators) or "none"
        raise ValueError(
            f"unknown indicator {indicator_id!r} in {reference!r} (defined: {defined})"
        )
    spec = _spec(indicators[indicator_id].type)
    if output is None:
        output = spec.primary_output
    elif output not in spec.all_outputs:
        outputs = ", ".join(spec.all_outputs)
        raise ValueError(f"{spec.name} has no output {output!r} (outputs: {outputs})")
    return f"{indicator_id}.{output}"


def lookback(indicator_type: str, params: Mapping[str, Any]) -> int:
    """Leading rows TA-Lib leaves undefined for this indicator (derived outputs add none)."""
    spec = _spec(indicator_type)
    function = abstract.Function(spec.talib_function)
    function.set_parameters(talib_kwargs(spec, params))
    return int(function.lookback)


def warmup_bars(indicators: Mapping[str, IndicatorConfig]) -> int:
    """Bars needed before every output of every indicator is defined.

    Exact for TA-Lib's outputs. Wilder/EMA smoothing still converges for a while after
    this point; a derived ratio can also be NaN later on degenerate data (flat prices).
    """
    return max((lookback(c.type, c.params) for c in indicators.values()), default=0)
