"""Save and read versioned models. torch is imported only where weights are (de)serialised.

Public functions take paths and plain dicts; a state dict is passed as a mapping of
parameter name to tensor and never typed as torch here. Listing and metadata come from
:mod:`ktrdr.research.model_registry` and work without torch installed.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ktrdr.research.model_registry import (
    METADATA_FILE,
    ModelInfo,
    allocate_version,
    model_at,
    publish_version,
    write_json_atomic,
)

WEIGHTS_FILE = "model.pt"
STRATEGY_FILE = "strategy.yaml"
FEATURES_FILE = "features.json"
METRICS_FILE = "metrics.json"
_LIBRARIES = ("ktrdr", "torch", "numpy", "pandas", "ta-lib")


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def save_model(
    models_dir: Path,
    strategy: dict[str, Any],
    timeframe: str,
    weights: Mapping[str, Any],
    features: dict[str, Any],
    metrics: dict[str, Any],
    metadata: dict[str, Any],
    *,
    publish: bool = True,
) -> ModelInfo:
    """Store a new version of ``strategy['name']``; an existing version is never touched.

    ``features`` holds the ordered input names and the normalisation; ``metadata`` adds
    run facts (data range, seed, symbols) to the library versions and creation time.
    """
    import torch  # lazy: the backend lists models without torch installed

    name = strategy["name"]
    version, path = allocate_version(models_dir, name, timeframe)
    torch.save(dict(weights), path / WEIGHTS_FILE)
    (path / STRATEGY_FILE).write_text(yaml.safe_dump(strategy, sort_keys=False), encoding="utf-8")
    write_json_atomic(path / FEATURES_FILE, features)
    write_json_atomic(path / METRICS_FILE, metrics)
    full_metadata = {
        **metadata,
        "strategy": name,
        "timeframe": timeframe,
        "version": version,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "libraries": library_versions(),
    }
    write_json_atomic(path / METADATA_FILE, full_metadata)  # last: marks the version complete
    if publish:  # a worker leaves this to the backend, once its operation has completed
        publish_version(models_dir, name, timeframe, version)
    return model_at(path)


def read_model_files(model_dir: Path) -> dict[str, Any]:
    """Everything about a stored model except its weights (no torch needed)."""
    info = model_at(model_dir)
    return {
        "info": info,
        "strategy": yaml.safe_load((model_dir / STRATEGY_FILE).read_text(encoding="utf-8")),
        "features": info.read_json(FEATURES_FILE),
        "metrics": info.read_json(METRICS_FILE),
        "metadata": info.metadata,
    }


def load_weights(model_dir: Path) -> dict[str, Any]:
    """The stored state dict (parameter name -> tensor), loaded onto the CPU."""
    import torch

    return torch.load(model_dir / WEIGHTS_FILE, map_location="cpu", weights_only=True)
