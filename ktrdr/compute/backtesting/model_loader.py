"""Load a stored model and predict a whole feature matrix in one batched pass.

torch is imported inside the functions that need it; the public interface takes a
path and returns numpy arrays, so callers never touch torch types.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ktrdr.compute.training.model_storage import load_weights, read_model_files


@dataclass
class LoadedModel:
    model_id: str
    path: Path
    strategy: dict[str, Any]
    feature_names: list[str]
    normalisation: dict[str, dict[str, float]]
    metadata: dict[str, Any]
    _network: Any  # a torch module; private so the public surface stays torch-free

    def predict(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(signals: int8 -1/0/1, confidences: float64 in [0, 1]) for every row."""
        import torch

        matrix = np.ascontiguousarray(features, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] != len(self.feature_names):
            width = len(self.feature_names)
            raise ValueError(f"expected a matrix with {width} columns, got shape {matrix.shape}")
        with torch.no_grad():
            probabilities = torch.softmax(self._network(torch.from_numpy(matrix)), dim=1).numpy()
        classes = probabilities.argmax(axis=1)
        return (classes - 1).astype(np.int8), probabilities.max(axis=1).astype(np.float64)


def load_model(model_dir: Path) -> LoadedModel:
    """Rebuild the network from its stored strategy and weights, in eval mode on the CPU."""
    from ktrdr.compute.training.network import build_network
    from ktrdr.research.strategies.schema import ModelConfig

    files = read_model_files(model_dir)
    names = files["features"]["names"]
    network = build_network(ModelConfig.model_validate(files["strategy"]["model"]), len(names))
    network.load_state_dict(load_weights(model_dir))
    network.eval()
    return LoadedModel(
        model_id=files["info"].model_id,
        path=model_dir,
        strategy=files["strategy"],
        feature_names=names,
        normalisation=files["features"]["normalisation"],
        metadata=files["metadata"],
        _network=network,
    )
