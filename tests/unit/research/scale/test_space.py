"""Sweep spaces: paths into the strategy, ranges and choices, errors naming each entry."""

from __future__ import annotations

import pytest
import yaml

from ktrdr.research.scale.space import SpaceError, apply_values, check_space, parse_path
from ktrdr.research.strategies.loader import validate_strategy_data
from tests.support.paths import STRATEGIES_DIR

STRATEGY = yaml.safe_load((STRATEGIES_DIR / "rsi_macd_trend.yaml").read_text())


def issues_of(space: dict) -> list[str]:
    with pytest.raises(SpaceError) as caught:
        check_space(space, STRATEGY, source="space.yaml")
    assert str(caught.value).startswith("space.yaml is invalid")
    return [str(issue) for issue in caught.value.issues]


def test_paths_read_keys_items_and_nth_entries() -> None:
    assert parse_path("indicators[0].params.period") == ["indicators", 0, "params", "period"]
    assert parse_path("fuzzy_sets.rsi_zones.oversold[1]") == [
        "fuzzy_sets",
        "rsi_zones",
        "oversold",
        1,
    ]
    with pytest.raises(ValueError, match="cannot read"):
        parse_path("model..dropout")


def test_the_shipped_space_fits_the_shipped_strategy() -> None:
    space = yaml.safe_load((STRATEGIES_DIR / "rsi_macd_trend.space.yaml").read_text())["params"]
    dimensions = check_space(space, STRATEGY)
    kinds = {
        d.path: ("choices" if d.choices else "int" if d.is_int else "float") for d in dimensions
    }
    assert kinds == {
        "indicators.rsi_14.params.period": "int",
        "indicators.macd_std.params.fast_period": "int",
        "fuzzy_sets.rsi_zones.oversold[1]": "int",
        "fuzzy_sets.rsi_zones.overbought[1]": "int",
        "model.hidden_layers": "choices",
        "model.dropout": "float",
        "training.learning_rate": "float",
        "decisions.confidence_threshold": "float",
    }


def test_every_problem_is_reported_with_its_parameter_path() -> None:
    found = issues_of(
        {
            "indicators[3].period": {"low": 5, "high": 10},
            "indicators[4].params.period": {"low": 5, "high": 10},
            "indicators.rsi_99.params.period": {"low": 5, "high": 10},
            "model.dropout": {"low": 0.1, "high": 1.5},
            "model.hidden_layers": {"choices": [[8], [0]]},
            "training.learning_rate": {"low": 0.0, "high": 0.1, "log": True},
            "training.epochs": {"low": 1.5, "high": 9},
            "decisions.confidence_threshold": {"low": 0.6, "high": 0.2},
            "training_data.symbols": {"low": 1, "high": 2},
            "model.activation": {"from": 1},
        }
    )
    assert found == [
        # indicators[3] exists (the fourth of four); it has no `period` directly.
        "params['indicators[3].period']: indicators[3] has no 'period' (it has type, params)",
        "params['indicators[4].params.period']: strategy has 4 indicators",
        "params['indicators.rsi_99.params.period']: indicators has no 'rsi_99' "
        "(it has rsi_14, macd_std, bb_20, atr_14)",
        "params['model.dropout']: 1.5 makes the strategy invalid: model.dropout: "
        "Input should be less than 1",
        "params['model.hidden_layers']: [0] makes the strategy invalid: model.hidden_layers: "
        "expected one or more layer sizes between 1 and 4096",
        "params['training.learning_rate']: a log range needs low > 0",
        "params['training.epochs']: the strategy's value here is an integer (60): "
        "use integer bounds",
        "params['decisions.confidence_threshold']: low (0.6) must be below high (0.2)",
        "params['training_data.symbols']: the strategy's value here is ['AAPL', 'MSFT'], "
        "not a number",
        "params['model.activation']: unknown key 'from'",
        "params['model.activation']: low and high must be finite numbers",
        "params['model.activation']: the strategy's value here is 'relu', not a number",
    ]


def test_an_empty_or_oversized_space_is_refused() -> None:
    assert issues_of({}) == ["params: a space maps strategy paths to ranges"]
    big = {f"model.dropout{i}": {"low": 0, "high": 1} for i in range(51)}
    assert issues_of(big) == ["params: at most 50 parameters"]


def test_applying_values_changes_a_copy_and_the_result_validates() -> None:
    values = {
        "indicators[0].params.period": 21,
        "fuzzy_sets.rsi_zones.oversold[1]": 25,
        "model.hidden_layers": [64, 32],
        "decisions.confidence_threshold": 0.45,
    }
    changed = apply_values(STRATEGY, values)
    assert changed["indicators"]["rsi_14"]["params"]["period"] == 21
    assert changed["fuzzy_sets"]["rsi_zones"]["oversold"] == [0, 25, 40]
    assert STRATEGY["indicators"]["rsi_14"]["params"]["period"] == 14  # untouched
    config, issues = validate_strategy_data(changed)
    assert issues == []
    assert config is not None
    assert config.model.hidden_layers == [64, 32]
