"""Execution and accounting parameters for a backtest."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ktrdr.core.errors import InvalidInputError


def _number(name: str, value: object) -> float:
    # bool is an int subclass; True as a commission is a bug, not 1.0.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise InvalidInputError(f"{name} must be finite, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class BacktestConfig:
    """How trades are filled and how results are annualised.

    ``commission`` is a fraction of traded notional charged on each side; ``slippage`` a
    fraction of price, always against the trader; ``position_size`` the fraction of
    equity committed at entry; ``risk_free_rate`` is annual, spread evenly over
    ``bars_per_year`` for Sharpe and Sortino.
    """

    initial_capital: float = 100_000.0
    commission: float = 0.001
    slippage: float = 0.0005
    position_size: float = 1.0
    bars_per_year: float = 252
    risk_free_rate: float = 0.0

    def __post_init__(self) -> None:
        if _number("initial_capital", self.initial_capital) <= 0:
            raise InvalidInputError(f"initial_capital must be > 0, got {self.initial_capital!r}")
        if not 0 <= _number("commission", self.commission) < 1:
            raise InvalidInputError(f"commission must be in [0, 1), got {self.commission!r}")
        if not 0 <= _number("slippage", self.slippage) < 1:
            raise InvalidInputError(f"slippage must be in [0, 1), got {self.slippage!r}")
        if not 0 < _number("position_size", self.position_size) <= 1:
            raise InvalidInputError(f"position_size must be in (0, 1], got {self.position_size!r}")
        if _number("bars_per_year", self.bars_per_year) <= 0:
            raise InvalidInputError(f"bars_per_year must be > 0, got {self.bars_per_year!r}")
        if _number("risk_free_rate", self.risk_free_rate) <= -1:
            raise InvalidInputError(f"risk_free_rate must be > -1, got {self.risk_free_rate!r}")
