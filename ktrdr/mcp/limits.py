"""What one tool call may make the server spend: waits, list sizes, text sizes."""

from __future__ import annotations

from typing import Any

# get_operation_status(wait_seconds=...) blocks at most this long; call it again to go on.
MAX_WAIT_SECONDS = 120.0
# How often a wait polls the backend.
POLL_INTERVAL_S = 0.5
# test_model_prediction runs a one-bar backtest and waits this long for it.
PREDICTION_WAIT_S = 60.0
# Lists inside results (trades, equity curve, epoch history) are cut to this by default.
DEFAULT_MAX_ITEMS = 50
MAX_ITEMS = 1000
# get_market_data returns at most this many bars.
DEFAULT_BARS = 50
MAX_BARS = 200
MAX_OPERATIONS = 100
# Each backend request; a backend slower than this is reported as unreachable.
BACKEND_TIMEOUT_S = 15.0
# Backend requests in flight at once, over every session.
MAX_CONCURRENT_BACKEND_CALLS = 8
# Streamable HTTP: sessions open at once, idle time before one is closed, request size.
MAX_HTTP_SESSIONS = 32
HTTP_SESSION_IDLE_S = 600.0
MAX_HTTP_REQUEST_BYTES = 1024 * 1024


def sample_evenly(items: list[Any], limit: int) -> list[Any]:
    """At most ``limit`` items spread evenly over ``items``, the first and last kept."""
    if len(items) <= limit:
        return items
    if limit <= 1:
        return items[-limit:] if limit else []
    step = (len(items) - 1) / (limit - 1)
    return [items[round(i * step)] for i in range(limit)]


def bound_lists(value: Any, limit: int, path: str = "") -> tuple[Any, dict[str, int]]:
    """``value`` with every list longer than ``limit`` sampled down (:func:`sample_evenly`).

    Returns the bounded value and, for each list that was cut, its dotted path and full
    length (e.g. ``{"equity_curve": 1250}``), so the caller can say what it left out.
    """
    cut: dict[str, int] = {}
    if isinstance(value, dict):
        bounded = {}
        for key, item in value.items():
            bounded[key], inner = bound_lists(item, limit, f"{path}.{key}" if path else str(key))
            cut.update(inner)
        return bounded, cut
    if isinstance(value, list):
        if len(value) > limit:
            cut[path or "."] = len(value)
            value = sample_evenly(value, limit)
        items = []
        for index, item in enumerate(value):
            bounded_item, inner = bound_lists(item, limit, f"{path}[{index}]")
            items.append(bounded_item)
            cut.update(inner)
        return items, cut
    return value, cut
