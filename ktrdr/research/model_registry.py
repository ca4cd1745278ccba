"""The on-disk layout of trained models, readable without torch.

    <models_dir>/<strategy>/<timeframe>_v<N>/   one immutable version
        model.pt            weights (written by ktrdr.compute.training.model_storage)
        strategy.yaml       the strategy it was trained from
        features.json       input names in order, and the normalisation
        metrics.json        training / validation / test metrics
        metadata.json       library versions, data range, seed, created_at (written last)
    <models_dir>/<strategy>/<timeframe>_latest      text: the latest version's folder name

A version folder is created with an exclusive ``mkdir``, so two concurrent saves get
distinct versions; ``metadata.json`` is written last and marks the version complete.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ktrdr.core.api_models import ModelSummary
from ktrdr.core.errors import InvalidInputError, NotFoundError
from ktrdr.core.files import write_atomic
from ktrdr.core.names import IDENTIFIER, validate_identifier
from ktrdr.core.timeframes import TIMEFRAME_PATTERN, validate_timeframe

METADATA_FILE = "metadata.json"
# Training checkpoints, one per operation (every attempt of it resumes the same one). No
# strategy is named so: listings never take the folder for one.
CHECKPOINTS_DIR = ".checkpoints"
_VERSION_DIR = re.compile(rf"^(?P<timeframe>{TIMEFRAME_PATTERN})_v(?P<version>[0-9]{{1,9}})$")
_MODEL_ID = re.compile(
    rf"^(?P<strategy>{IDENTIFIER.pattern[1:-1]})/(?P<timeframe>{TIMEFRAME_PATTERN})"
    r"_(?P<version>v[0-9]{1,9}|latest)$"
)
_VERSION = re.compile(r"^v?(?P<number>[0-9]{1,9})$")


class ModelNotFoundError(NotFoundError):
    """No stored model matches the request."""


@dataclass(frozen=True)
class ModelInfo:
    strategy: str
    timeframe: str
    version: int
    path: Path
    metadata: dict[str, Any]

    @property
    def model_id(self) -> str:
        return f"{self.strategy}/{self.timeframe}_v{self.version}"

    def read_json(self, name: str) -> dict[str, Any]:
        return json.loads((self.path / name).read_text(encoding="utf-8"))

    def summary(self) -> ModelSummary:
        """What the API shows of it (no server path)."""
        return ModelSummary(
            id=self.model_id,
            strategy=self.strategy,
            timeframe=self.timeframe,
            version=self.version,
            metadata=self.metadata,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.model_id,
            "strategy": self.strategy,
            "timeframe": self.timeframe,
            "version": self.version,
            "path": str(self.path),
            "metadata": self.metadata,
        }


def _check_name(strategy: str, timeframe: str) -> None:
    validate_identifier(strategy, "strategy name", field="strategy")
    validate_timeframe(timeframe)


def _read_info(path: Path) -> ModelInfo | None:
    match = _VERSION_DIR.match(path.name)
    metadata_path = path / METADATA_FILE
    if not match or not metadata_path.is_file():
        return None  # not a version folder, or a save still in progress
    try:
        metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return ModelInfo(
        strategy=path.parent.name,
        timeframe=match["timeframe"],
        version=int(match["version"]),
        path=path,
        metadata=metadata,
    )


def list_models(models_dir: Path, strategy: str | None = None) -> list[ModelInfo]:
    """Every complete version, sorted by strategy, timeframe and version."""
    if strategy is not None:
        validate_identifier(strategy, "strategy name", field="strategy")
    if not models_dir.is_dir():
        return []
    strategy_dirs = [models_dir / strategy] if strategy else sorted(models_dir.iterdir())
    found = []
    for strategy_dir in strategy_dirs:
        if not strategy_dir.is_dir():
            continue
        for path in strategy_dir.iterdir():
            info = _read_info(path) if path.is_dir() else None
            if info is not None:
                found.append(info)
    return sorted(found, key=lambda m: (m.strategy, m.timeframe, m.version))


def latest_model(models_dir: Path, strategy: str, timeframe: str) -> ModelInfo:
    """The version the ``<timeframe>_latest`` pointer names.

    Only a published version is ever the latest: one a worker saved for an attempt that
    was superseded stays listed, but nothing picks it by default.
    """
    _check_name(strategy, timeframe)
    pointer = models_dir / strategy / f"{timeframe}_latest"
    if pointer.is_file():
        info = _read_info(models_dir / strategy / pointer.read_text(encoding="utf-8").strip())
        if info is not None:
            return info
    raise ModelNotFoundError(
        f"no trained model for strategy {strategy!r} ({timeframe}); train it first",
        field="model",
    )


def get_model(models_dir: Path, model_id: str) -> ModelInfo:
    """A model by id: ``strategy/1d_v3`` or ``strategy/1d_latest``, always inside ``models_dir``."""
    match = _MODEL_ID.match(model_id) if isinstance(model_id, str) else None
    if match is None:
        raise InvalidInputError(
            f"invalid model id {str(model_id)[:80]!r}: expected <strategy>/<timeframe>_v<N> "
            "or <strategy>/<timeframe>_latest",
            field="model",
        )
    strategy, timeframe, version = match["strategy"], match["timeframe"], match["version"]
    if version == "latest":
        return latest_model(models_dir, strategy, timeframe)
    info = _read_info(models_dir / strategy / f"{timeframe}_{version}")
    if info is None:
        raise ModelNotFoundError(f"model {model_id!r} not found", field="model")
    return info


def model_at(path: Path) -> ModelInfo:
    """The model stored in the folder ``path`` (the CLI's ``--model DIR``)."""
    info = _read_info(Path(path)) if Path(path).is_dir() else None
    if info is None:
        raise ModelNotFoundError(f"no complete model version in {path}", field="model")
    return info


def resolve_model(
    models_dir: Path, strategy: str, timeframe: str, ref: str | int | None
) -> ModelInfo:
    """The model a backtest of ``strategy`` uses: an id, a version number, or the latest."""
    if ref is None or ref == "latest":
        return latest_model(models_dir, strategy, timeframe)
    if isinstance(ref, int) and not isinstance(ref, bool):
        return get_model(models_dir, f"{strategy}/{timeframe}_v{ref}")
    if isinstance(ref, str) and (version := _VERSION.match(ref)):
        return get_model(models_dir, f"{strategy}/{timeframe}_v{version['number']}")
    match = _MODEL_ID.match(ref) if isinstance(ref, str) else None
    if match is not None and match["strategy"] != strategy:
        raise InvalidInputError(
            f"model {ref!r} belongs to strategy {match['strategy']!r}, not {strategy!r}",
            field="model",
        )
    if match is not None and match["timeframe"] != timeframe:
        raise InvalidInputError(
            f"model {ref!r} trades {match['timeframe']}, but strategy {strategy!r} trades "
            f"{timeframe}",
            field="model",
        )
    return get_model(models_dir, str(ref))


def allocate_version(models_dir: Path, strategy: str, timeframe: str) -> tuple[int, Path]:
    """Create and return the next free version folder (safe against concurrent savers)."""
    _check_name(strategy, timeframe)
    strategy_dir = models_dir / strategy
    strategy_dir.mkdir(parents=True, exist_ok=True)
    taken = [
        int(m["version"])
        for p in strategy_dir.iterdir()
        if (m := _VERSION_DIR.match(p.name)) and m["timeframe"] == timeframe
    ]
    version = max(taken, default=0) + 1
    while True:
        path = strategy_dir / f"{timeframe}_v{version}"
        try:
            path.mkdir()  # exclusive: the loser of a race moves on to the next number
        except FileExistsError:
            version += 1
            continue
        return version, path


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON through a temp file and rename, so readers never see half a file."""
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str))


def publish_model(models_dir: Path, model_id: str) -> ModelInfo:
    """Point its ``latest`` at the complete version ``model_id`` (``strategy/1d_v3``)."""
    info = get_model(models_dir, model_id)
    publish_version(models_dir, info.strategy, info.timeframe, info.version)
    return info


def publish_version(models_dir: Path, strategy: str, timeframe: str, version: int) -> None:
    """Point ``<timeframe>_latest`` at ``version`` unless a newer version is already there."""
    pointer = models_dir / strategy / f"{timeframe}_latest"
    current = pointer.read_text(encoding="utf-8").strip() if pointer.is_file() else ""
    match = _VERSION_DIR.match(current)
    if match and int(match["version"]) > version:
        return
    write_atomic(pointer, f"{timeframe}_v{version}\n")


def checkpoint_file(models_dir: Path, operation_id: str) -> Path:
    """Where the training checkpoint of an operation lives (written by its worker)."""
    return models_dir / CHECKPOINTS_DIR / f"{operation_id}.pt"


def discard_checkpoint(models_dir: Path, operation_id: str) -> None:
    """Remove an operation's checkpoint, if any: nothing will resume it any more."""
    with contextlib.suppress(FileNotFoundError):
        checkpoint_file(models_dir, operation_id).unlink()
