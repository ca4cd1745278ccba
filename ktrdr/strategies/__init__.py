"""Strategy definitions: the YAML schema, loading and validation (no numpy)."""

from ktrdr.strategies.loader import (
    StrategyError,
    StrategyIssue,
    list_strategies,
    load_strategy,
    parse_strategy,
    resolve_strategy_path,
    validate_strategy_text,
)
from ktrdr.strategies.schema import StrategyConfig

__all__ = [
    "StrategyConfig",
    "StrategyError",
    "StrategyIssue",
    "list_strategies",
    "load_strategy",
    "parse_strategy",
    "resolve_strategy_path",
    "validate_strategy_text",
]
