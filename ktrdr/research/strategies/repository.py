"""Store uploaded strategies in the strategies directory, atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ktrdr.core.errors import ConflictError
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
    fd, tmp = tempfile.mkstemp(dir=strategies_dir, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return config, path
