"""Read strategy YAML, validate it completely, and find strategies by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ktrdr.core.errors import DocumentIssuesError, Issue, NotFoundError
from ktrdr.core.names import validate_identifier
from ktrdr.research.strategies.bounded_yaml import YamlLimitError, load_bounded
from ktrdr.research.strategies.references import check_references
from ktrdr.research.strategies.schema import StrategyConfig

MAX_STRATEGY_BYTES = 256 * 1024
SPACE_SUFFIX = ".space.yaml"
# An issue quotes at most this much of a message (values in it can be huge).
MAX_ISSUE_CHARS = 300
# A problem in a strategy: ``path`` is the dotted YAML path ("" for the whole document).
StrategyIssue = Issue


class StrategyError(DocumentIssuesError):
    """A strategy that cannot be used, with every problem found."""

    def __init__(self, issues: list[Issue], source: str = "strategy") -> None:
        super().__init__(issues, source)


class StrategyNotFoundError(NotFoundError, FileNotFoundError):
    """No strategy of that name, or no such strategy file."""


def _pydantic_issues(error: ValidationError) -> list[StrategyIssue]:
    issues = []
    for item in error.errors():
        # "terms" is an internal grouping; in YAML a term sits directly under its set.
        loc = [str(part) for part in item["loc"] if part != "terms"]
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "required field is missing"
        elif item["type"] == "extra_forbidden":
            message = "unknown field"
        issues.append(StrategyIssue(".".join(loc), message))
    return issues


def validate_strategy_data(data: Any) -> tuple[StrategyConfig | None, list[StrategyIssue]]:
    """Validate parsed YAML. Returns the config (None when invalid) and every issue."""
    if not isinstance(data, dict):
        return None, [StrategyIssue("", "a strategy must be a YAML mapping")]
    config: StrategyConfig | None = None
    try:
        config = StrategyConfig.model_validate(data)
        issues = []
    except ValidationError as error:
        issues = _pydantic_issues(error)
    issues += [StrategyIssue(path, message) for path, message in check_references(data)]
    return (None if issues else config), [_short(issue) for issue in issues]


def _short(issue: Issue) -> Issue:
    if len(issue.message) <= MAX_ISSUE_CHARS:
        return issue
    return Issue(issue.path[:200], issue.message[: MAX_ISSUE_CHARS - 3] + "...")


def validate_strategy_text(text: str) -> tuple[StrategyConfig | None, list[StrategyIssue]]:
    """Parse and validate YAML text; syntax errors are reported with their line."""
    if len(text.encode()) > MAX_STRATEGY_BYTES:
        return None, [StrategyIssue("", f"strategy is larger than {MAX_STRATEGY_BYTES} bytes")]
    try:
        data = load_bounded(text)
    except YamlLimitError as error:
        return None, [StrategyIssue("", f"strategy YAML too large: {error}")]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        return None, [StrategyIssue("", f"invalid YAML at {where}{problem}")]
    return validate_strategy_data(data)


def parse_strategy(text: str, source: str = "strategy") -> StrategyConfig:
    config, issues = validate_strategy_text(text)
    if config is None:
        raise StrategyError(issues, source)
    return config


def find_strategy(name: str, strategies_dir: Path) -> Path:
    """The file of the strategy called ``name`` in ``strategies_dir`` (names only, no paths)."""
    validate_identifier(name, "strategy name", field="strategy_name")
    for suffix in (".yaml", ".yml"):
        path = strategies_dir / f"{name}{suffix}"
        if path.is_file():
            return path
    raise StrategyNotFoundError(f"no strategy named {name!r}", field="strategy_name")


def resolve_strategy_path(name_or_path: str, strategies_dir: Path) -> Path:
    """A strategy name under ``strategies_dir`` or a path to a YAML file (the CLI's argument)."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or candidate.is_file():
        if not candidate.is_file():
            raise StrategyNotFoundError(f"strategy file not found: {candidate}")
        return candidate
    return find_strategy(name_or_path, strategies_dir)


def load_strategy(
    name_or_path: str | Path, strategies_dir: Path = Path("strategies")
) -> StrategyConfig:
    path = resolve_strategy_path(str(name_or_path), strategies_dir)
    return parse_strategy(path.read_text(encoding="utf-8"), source=str(path))


def list_strategies(
    strategies_dir: Path,
) -> list[tuple[Path, StrategyConfig | None, list[StrategyIssue]]]:
    """Every strategy YAML file in the directory, with its config or its issues.

    Sweep spaces (``*.space.yaml``) live beside their strategies and are no strategies.
    """
    if not strategies_dir.is_dir():
        return []
    found = []
    for path in sorted([*strategies_dir.glob("*.yaml"), *strategies_dir.glob("*.yml")]):
        if path.name.endswith((SPACE_SUFFIX, ".space.yml")):
            continue
        config, issues = validate_strategy_text(path.read_text(encoding="utf-8"))
        found.append((path, config, issues))
    return found
