"""Sweep spaces: strategy fields by YAML path, each with a range or a list of choices.

A space file::

    params:
      indicators.rsi_14.params.period: {low: 7, high: 28}
      indicators[1].params.fast_period: {low: 8, high: 16, step: 2}
      fuzzy_sets.rsi_zones.oversold[1]: {low: 15, high: 30}
      model.hidden_layers: {choices: [[32, 16], [64, 32]]}
      model.dropout: {low: 0.0, high: 0.5}
      training.learning_rate: {low: 0.0001, high: 0.01, log: true}
      decisions.confidence_threshold: {low: 0.3, high: 0.6}

A path walks the strategy's YAML: ``.name`` a mapping key, ``[n]`` the n-th item of a
list or the n-th entry of a mapping (``indicators[0]``). Everything is checked against
the strategy before a sweep is queued, with errors naming the parameter
(``params['indicators[3].period']: strategy has 2 indicators``); every strategy a
trial samples is validated again (see :func:`apply_values`).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from typing import Any

from ktrdr.core.errors import DocumentIssuesError, Issue
from ktrdr.core.protocol import MAX_SPACE_PARAMS
from ktrdr.research.strategies.loader import validate_strategy_data

MAX_CHOICES = 50
_SEGMENT = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d{1,4})\]")
_RANGE_KEYS = {"low", "high", "step", "log"}


class SpaceError(DocumentIssuesError):
    """A space that cannot be searched, with every problem found."""

    def __init__(self, issues: list[Issue], source: str = "space") -> None:
        super().__init__(issues, source)


@dataclass(frozen=True)
class Dimension:
    """One searched field: a numeric range, or choices (sampled by their index)."""

    path: str
    low: float | int | None = None
    high: float | int | None = None
    step: float | int | None = None
    log: bool = False
    choices: tuple[Any, ...] | None = None

    @property
    def is_int(self) -> bool:
        return self.choices is None and all(
            isinstance(v, int) for v in (self.low, self.high, self.step) if v is not None
        )


def parse_path(path: str) -> list[str | int]:
    """``indicators[0].params.period`` -> ``["indicators", 0, "params", "period"]``."""
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        match = _SEGMENT.match(path, position)
        if match is None or (position == 0 and path.startswith(".")):
            raise ValueError(f"cannot read the path at {path[position:][:40]!r}")
        name, index = match.groups()
        parts.append(name if name is not None else int(index))
        position = match.end()
    if not parts:
        raise ValueError("empty path")
    return parts


def _describe(prefix: list[str | int]) -> str:
    text = ""
    for part in prefix:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the strategy"


def _step_into(node: Any, part: str | int, prefix: list[str | int]) -> Any:
    """The child ``part`` of ``node``; ValueError says what the strategy has instead."""
    where = _describe(prefix)
    noun = str(prefix[-1]) if prefix else "entries"
    if isinstance(part, int):
        if isinstance(node, dict):
            if part >= len(node):
                raise ValueError(f"strategy has {len(node)} {noun}")
            return list(node.values())[part]
        if isinstance(node, list):
            if part >= len(node):
                raise ValueError(f"{where} has {len(node)} items")
            return node[part]
        raise ValueError(f"{where} is not a list or mapping")
    if not isinstance(node, dict):
        raise ValueError(f"{where} is not a mapping")
    if part not in node:
        names = ", ".join(str(k) for k in list(node)[:12])
        raise ValueError(f"{where} has no {part!r} (it has {names or 'nothing'})")
    return node[part]


def read_value(strategy: dict[str, Any], path: str) -> Any:
    node: Any = strategy
    parts = parse_path(path)
    for depth, part in enumerate(parts):
        node = _step_into(node, part, parts[:depth])
    return node


def _set_value(strategy: dict[str, Any], path: str, value: Any) -> None:
    parts = parse_path(path)
    node: Any = strategy
    for depth, part in enumerate(parts[:-1]):
        node = _step_into(node, part, parts[:depth])
    last = parts[-1]
    _step_into(node, last, parts[:-1])  # it must exist: a sweep changes, never adds
    if isinstance(last, int) and isinstance(node, dict):
        last = list(node)[last]
    node[last] = value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _dimension(path: str, spec: Any, current: Any) -> tuple[Dimension | None, list[str]]:
    """The dimension of one entry, or what is wrong with it (messages without the path)."""
    if not isinstance(spec, dict):
        return None, ["give {low, high[, step | log]} or {choices: [...]}"]
    if "choices" in spec:
        extra = set(spec) - {"choices"}
        choices = spec["choices"]
        if extra:
            return None, [f"choices take no {', '.join(sorted(extra))}"]
        if not isinstance(choices, list) or not 1 <= len(choices) <= MAX_CHOICES:
            return None, [f"choices must be a list of 1 to {MAX_CHOICES} values"]
        return Dimension(path, choices=tuple(choices)), []
    problems = [f"unknown key {key!r}" for key in sorted(set(spec) - _RANGE_KEYS)]
    low, high, step, log = spec.get("low"), spec.get("high"), spec.get("step"), spec.get("log")
    if not _number(low) or not _number(high):
        problems.append("low and high must be finite numbers")
    elif low >= high:
        problems.append(f"low ({low}) must be below high ({high})")
    if step is not None and (not _number(step) or step <= 0):
        problems.append("step must be a positive number")
    if log is not None and not isinstance(log, bool):
        problems.append("log must be true or false")
    if log and step is not None:
        problems.append("give step or log, not both")
    if log and _number(low) and low <= 0:
        problems.append("a log range needs low > 0")
    if not _number(current):
        problems.append(f"the strategy's value here is {current!r}, not a number")
    elif isinstance(current, int) and not all(
        isinstance(v, int) for v in (low, high, step) if v is not None
    ):
        problems.append(f"the strategy's value here is an integer ({current}): use integer bounds")
    if problems:
        return None, problems
    return Dimension(path, low=low, high=high, step=step, log=bool(log)), []


def check_space(space: Any, strategy: dict[str, Any], source: str = "space") -> list[Dimension]:
    """Every dimension of ``space`` (the ``params`` mapping), or SpaceError listing all problems.

    Each path must exist in the strategy; each range's ends and each choice, put into
    the strategy alone, must still give a valid strategy.
    """
    if not isinstance(space, dict) or not space:
        raise SpaceError([Issue("params", "a space maps strategy paths to ranges")], source)
    if len(space) > MAX_SPACE_PARAMS:
        raise SpaceError([Issue("params", f"at most {MAX_SPACE_PARAMS} parameters")], source)
    issues: list[Issue] = []
    dimensions = []
    for path, spec in space.items():
        where = f"params[{str(path)[:120]!r}]"
        try:
            current = read_value(strategy, str(path))
        except ValueError as error:
            issues.append(Issue(where, str(error)))
            continue
        dimension, problems = _dimension(str(path), spec, current)
        issues += [Issue(where, problem) for problem in problems]
        if dimension is None:
            continue
        candidates = (
            list(dimension.choices)
            if dimension.choices is not None
            else [dimension.low, dimension.high]
        )
        for value in candidates:
            _, strategy_issues = validate_strategy_data(apply_values(strategy, {str(path): value}))
            issues += [
                Issue(where, f"{value!r} makes the strategy invalid: {i}") for i in strategy_issues
            ]
        dimensions.append(dimension)
    if issues:
        raise SpaceError(issues, source)
    return dimensions


def apply_values(strategy: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of the strategy with each path set to its value (paths checked already)."""
    changed = copy.deepcopy(strategy)
    for path, value in values.items():
        _set_value(changed, path, value)
    return changed
