"""The strategy's network: a small MLP emitting SELL / HOLD / BUY logits."""

from __future__ import annotations

from torch import nn

from ktrdr.research.strategies.schema import ModelConfig

N_CLASSES = 3
_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
}


def build_network(config: ModelConfig, n_inputs: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = n_inputs
    for size in config.hidden_layers:
        layers += [nn.Linear(width, size), _ACTIVATIONS[config.activation]()]
        if config.dropout > 0:
            layers.append(nn.Dropout(config.dropout))
        width = size
    layers.append(nn.Linear(width, N_CLASSES))
    return nn.Sequential(*layers)
