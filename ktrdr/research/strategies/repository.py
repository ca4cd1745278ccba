"""Store uploaded strategies in the strategies directory, atomically."""

from __future__ import annotations

from pathlib import Path

from ktrdr.core.errors import ConflictError
from ktrdr.core.files import write_atomic
from ktrdr.core.names import validate_identifier
from ktrdr.research.strategies.loader import StrategyError, StrategyIssue, parse_strategy
from ktrdr.research.strategies.schema import StrategyConfig


class StrategyExistsError(ConflictError, FileExistsError):
    """An upload would overwrite a strategy without ``replace``."""


def save_strategy(
    strategies_dir: Path, name: str, text: str, *, replace: bool = False
) -> tuple[StrategyConfig, Path]:
    """Validate ``text`` and write it as ``<name>.yaml``; an invalid upload writes nothing."""
    validate_identifier(name, "strategy name", field="name")
    config = parse_strategy(text, source=f"strategy {name!r}")
    if config.name != name:
        issue = StrategyIssue("name", f"is {config.name!r} but the upload is for {name!r}")
        raise StrategyError([issue], source=f"strategy {name!r}")
    strategies_dir.mkdir(parents=True, exist_ok=True)
    path = strategies_dir / f"{name}.yaml"
    if path.exists() and not replace:
        raise StrategyExistsError(
            f"strategy {name!r} exists; upload with replace=true to overwrite"
        )
    write_atomic(path, text)
    return config, path
