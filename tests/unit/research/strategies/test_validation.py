from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ktrdr.research.strategies import (
    StrategyError,
    load_strategy,
    parse_strategy,
    validate_strategy_text,
)
from tests.conftest import STRATEGIES_DIR
from tests.support.paths import STRATEGY_FILES

EXAMPLE = (STRATEGIES_DIR / "rsi_macd_trend.yaml").read_text()


def issues_of(text: str) -> dict[str, str]:
    config, issues = validate_strategy_text(text)
    assert config is None
    return {issue.path: issue.message for issue in issues}


def edited(**changes: object) -> str:
    data = yaml.safe_load(EXAMPLE)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return yaml.safe_dump(data)


@pytest.mark.parametrize(
    "path",
    STRATEGY_FILES,
    ids=lambda p: p.stem,
)
def test_bundled_examples_are_valid(path: Path) -> None:
    config = load_strategy(path)
    assert config.name == path.stem


def test_triangular_term_out_of_order_names_its_path() -> None:
    found = issues_of(edited(fuzzy_sets__rsi_zones__oversold=[40, 20, 0]))
    assert "expected three numbers a <= b <= c" in found["fuzzy_sets.rsi_zones.oversold"]


def test_gaussian_needs_positive_sigma() -> None:
    term = {"type": "gaussian", "parameters": [0.0, 0.0]}
    found = issues_of(edited(fuzzy_sets__momentum__flat=term))
    assert "sigma > 0" in found["fuzzy_sets.momentum.flat"]


def test_unknown_indicator_and_output_references() -> None:
    text = edited(
        fuzzy_sets__rsi_zones__indicator="rsi_99", fuzzy_sets__momentum__indicator="macd_std.histo"
    )
    found = issues_of(text)
    assert found["fuzzy_sets.rsi_zones.indicator"].startswith("unknown indicator 'rsi_99'")
    assert "has no output 'histo'" in found["fuzzy_sets.momentum.indicator"]


def test_unknown_fuzzy_set_and_timeframe_in_nn_inputs() -> None:
    data = yaml.safe_load(EXAMPLE)
    data["nn_inputs"][0] = {"fuzzy_set": "nope"}
    data["nn_inputs"][1]["timeframes"] = ["4h"]
    found = issues_of(yaml.safe_dump(data))
    assert "unknown fuzzy set 'nope'" in found["nn_inputs.0.fuzzy_set"]
    assert "not in training_data.timeframes" in found["nn_inputs.1.timeframes"]


def test_indicator_type_and_parameter_checks() -> None:
    data = yaml.safe_load(EXAMPLE)
    data["indicators"]["rsi_14"]["params"] = {"period": 1, "smoothing": 3}
    data["indicators"]["atr_14"]["type"] = "atrx"
    found = issues_of(yaml.safe_dump(data))
    assert "between 2 and 500" in found["indicators.rsi_14.params.period"]
    assert "unknown parameter" in found["indicators.rsi_14.params.smoothing"]
    assert found["indicators.atr_14.type"] == "unknown indicator type 'atrx'"


def test_structural_and_reference_problems_are_reported_together() -> None:
    data = yaml.safe_load(EXAMPLE)
    del data["training_data"]
    data["extra_field"] = 1
    data["fuzzy_sets"]["rsi_zones"]["indicator"] = "missing_ind"
    found = issues_of(yaml.safe_dump(data))
    assert found["training_data"] == "required field is missing"
    assert found["extra_field"] == "unknown field"
    assert "unknown indicator 'missing_ind'" in found["fuzzy_sets.rsi_zones.indicator"]


def test_split_must_sum_to_one() -> None:
    found = issues_of(edited(training__data_split={"train": 0.8, "validation": 0.15, "test": 0.15}))
    assert "must equal 1" in found["training.data_split"]


def test_yaml_syntax_error_names_the_line() -> None:
    found = issues_of("name: x\nindicators: [\n")
    assert "line 3" in found[""]


def test_non_mapping_document() -> None:
    assert issues_of("- a\n- b\n") == {"": "a strategy must be a YAML mapping"}


def test_parse_strategy_raises_with_every_issue() -> None:
    with pytest.raises(StrategyError) as raised:
        parse_strategy(edited(name="9bad", model__dropout=1.5), source="x.yaml")
    paths = {issue.path for issue in raised.value.issues}
    assert {"name", "model.dropout"} <= paths
    assert "x.yaml is invalid" in str(raised.value)


def test_round_trip_through_yaml_dict() -> None:
    config = parse_strategy(EXAMPLE)
    again = parse_strategy(yaml.safe_dump(config.to_yaml_dict()))
    assert again == config


def test_load_by_name_rejects_path_tricks() -> None:
    with pytest.raises(
        ValueError, match=r"strategy name '\.\./etc/passwd' must start with a letter"
    ):
        load_strategy("../etc/passwd", STRATEGIES_DIR)
    with pytest.raises(FileNotFoundError):
        load_strategy("no_such_strategy", STRATEGIES_DIR)


def test_membership_parameters_must_be_finite() -> None:
    found = issues_of(edited(fuzzy_sets__rsi_zones__oversold=[float("-inf"), 0, 20]))
    assert "fuzzy_sets.rsi_zones.oversold.parameters.0" in found


def test_macd_fast_period_must_be_below_slow_period() -> None:
    macd = {"type": "macd", "params": {"fast_period": 30, "slow_period": 26}}
    found = issues_of(edited(indicators__macd_std=macd))
    assert found["indicators.macd_std.params.fast_period"] == "must be below slow_period"
