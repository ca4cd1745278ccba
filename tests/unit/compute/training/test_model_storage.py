from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ktrdr.compute.backtesting.model_loader import load_model
from ktrdr.compute.training.model_storage import load_weights, read_model_files, save_model
from ktrdr.compute.training.network import build_network
from ktrdr.research.model_registry import latest_model, list_models
from ktrdr.research.strategies import load_strategy
from ktrdr.research.strategies.schema import ModelConfig
from tests.conftest import STRATEGIES_DIR

STRATEGY = load_strategy("stoch_adx_breakout", STRATEGIES_DIR).to_yaml_dict()
N_FEATURES = 5


def store(models_dir: Path, seed: int = 0):  # type: ignore[no-untyped-def]
    torch.manual_seed(seed)
    network = build_network(ModelConfig.model_validate(STRATEGY["model"]), N_FEATURES)
    info = save_model(
        models_dir,
        strategy=STRATEGY,
        timeframe="1d",
        weights=network.state_dict(),
        features={"names": [f"f{i}" for i in range(N_FEATURES)], "normalisation": {}},
        metrics={"test": {"accuracy": 0.5}},
        metadata={"seed": seed, "ranges": {"IBM": {"test": ["2011-01-01", "2013-01-01"]}}},
    )
    return info, network


def test_save_creates_a_new_complete_version_each_time(tmp_path: Path) -> None:
    first, _ = store(tmp_path)
    second, _ = store(tmp_path, seed=1)
    assert (first.version, second.version) == (1, 2)
    assert {p.name for p in first.path.iterdir()} == {
        "model.pt",
        "strategy.yaml",
        "features.json",
        "metrics.json",
        "metadata.json",
    }
    assert latest_model(tmp_path, "stoch_adx_breakout", "1d").version == 2
    assert first.metadata["seed"] == 0  # version 1 untouched by the second save
    assert set(first.metadata["libraries"]) >= {"python", "torch", "numpy", "ktrdr"}
    assert first.metadata["created_at"]


def test_weights_and_files_round_trip(tmp_path: Path) -> None:
    info, network = store(tmp_path)
    loaded = load_weights(info.path)
    for name, tensor in network.state_dict().items():
        assert torch.equal(loaded[name], tensor)
    files = read_model_files(info.path)
    assert files["strategy"]["name"] == "stoch_adx_breakout"
    assert files["features"]["names"] == [f"f{i}" for i in range(N_FEATURES)]
    assert [m.model_id for m in list_models(tmp_path)] == ["stoch_adx_breakout/1d_v1"]


def test_loaded_model_predicts_the_whole_matrix_in_one_pass(tmp_path: Path) -> None:
    info, network = store(tmp_path)
    model = load_model(info.path)
    features = np.random.default_rng(0).normal(size=(50, N_FEATURES))
    signals, confidences = model.predict(features)
    network.eval()
    with torch.no_grad():
        expected = network(torch.from_numpy(features.astype(np.float32))).argmax(dim=1) - 1
    assert signals.dtype == np.int8
    np.testing.assert_array_equal(signals, expected.numpy())
    assert ((confidences >= 1 / 3) & (confidences <= 1)).all()


def test_predict_rejects_a_matrix_of_the_wrong_width(tmp_path: Path) -> None:
    info, _ = store(tmp_path)
    with pytest.raises(ValueError, match="5 columns"):
        load_model(info.path).predict(np.zeros((3, 4)))
