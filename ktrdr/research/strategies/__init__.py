"""Strategy definitions: the YAML schema, loading and validation (no numpy)."""

from ktrdr.research.strategies.loader import (
    StrategyError,
    StrategyIssue,
    StrategyNotFoundError,
    find_strategy,
    list_strategies,
    load_strategy,
    parse_strategy,
    resolve_strategy_path,
    validate_strategy_text,
)
from ktrdr.research.strategies.schema import StrategyConfig

__all__ = [
    "StrategyConfig",
    "StrategyError",
    "StrategyIssue",
    "StrategyNotFoundError",
    "find_strategy",
    "list_strategies",
    "load_strategy",
    "parse_strategy",
    "resolve_strategy_path",
    "validate_strategy_text",
]
