"""Store uploaded strategies in the strategies directory, atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ktrdr.strategies.loader import StrategyError, StrategyIssue, parse_strategy
from ktrdr.strategies.schema import IDENTIFIER, StrategyConfig


def save_strategy(
    strategies_dir: Path, name: str, text: str, *, replace: bool = False
) -> tuple[StrategyConfig, Path]:
    """Validate ``text`` and write it as ``<name>.yaml``; an invalid upload writes nothing."""
    if not IDENTIFIER.match(name):
        raise ValueError(f"invalid strategy name {name!r}")
    config = parse_strategy(text, source=f"strategy {name!r}")
    if config.name != name:
        issue = StrategyIssue("name", f"is {config.name!r} but the upload is for {name!r}")
        raise StrategyError([issue], source=f"strategy {name!r}")
    strategies_dir.mkdir(parents=True, exist_ok=True)
    path = strategies_dir / f"{name}.yaml"
    if path.exists() and not replace:
        raise FileExistsError(f"strategy {name!r} exists; upload with replace=true to overwrite")
    fd, tmp = tempfile.mkstemp(dir=strategies_dir, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return config, path
