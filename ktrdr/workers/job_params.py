"""Reading a dispatched job's parameters, shared by the backtest and training jobs."""

from __future__ import annotations

from typing import Any


def check_param_names(params: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    """Refuse unknown keys: a misspelt option would otherwise silently change a result."""
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValueError(
            f"unknown {what} parameter(s): {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def text_param(params: dict[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string, got {value!r}")
    return value
