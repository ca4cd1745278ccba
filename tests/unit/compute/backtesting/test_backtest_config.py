"""BacktestConfig validation: bad values are rejected with the field named."""

from __future__ import annotations

import math

import pytest

from ktrdr.compute.backtesting.config import BacktestConfig


def test_defaults() -> None:
    cfg = BacktestConfig()
    assert cfg.initial_capital == 100_000.0
    assert cfg.commission == 0.001
    assert cfg.slippage == 0.0005
    assert cfg.position_size == 1.0
    assert cfg.bars_per_year == 252
    assert cfg.risk_free_rate == 0.0


def test_is_frozen() -> None:
    cfg = BacktestConfig()
    with pytest.raises(AttributeError):
        cfg.commission = 0.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("initial_capital", 0.0),
        ("initial_capital", -1.0),
        ("initial_capital", math.inf),
        ("initial_capital", "100"),
        ("commission", -0.001),
        ("commission", 1.0),
        ("commission", math.nan),
        ("slippage", -0.1),
        ("slippage", 1.5),
        ("position_size", 0.0),
        ("position_size", 1.01),
        ("position_size", True),
        ("bars_per_year", 0),
        ("bars_per_year", -252),
        ("risk_free_rate", -1.0),
        ("risk_free_rate", math.inf),
    ],
)
def test_rejects_bad_values_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        BacktestConfig(**{field: value})  # type: ignore[arg-type]


def test_accepts_edge_values() -> None:
    cfg = BacktestConfig(commission=0.0, slippage=0.0, position_size=1.0, bars_per_year=365.25)
    assert cfg.bars_per_year == 365.25
