"""The tutorial's FNN: a multi-layer perceptron (fully connected layers with ReLU)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core import classification
from core.config import TrainConfig, param
from core.i18n import N_
from core.models.spec import ModelSpec, Reference


@dataclass
class MLPConfig(TrainConfig):
    hidden_size: int = param(500, "units per hidden layer (the tutorial's hidden_size = 500)",
                             low=4, high=4096, label=N_("hidden size"), size="width")
    hidden_layers: int = param(1, "number of hidden layers (the tutorial has one)", low=1, high=6,
                               label=N_("hidden layers"), size="depth")
    dropout: float = param(0.0, "dropout after each hidden layer", low=0.0, high=0.9)


class MLP(nn.Module):
    def __init__(self, config: MLPConfig, image_shape=(1, 28, 28), num_classes: int = 10):
        super().__init__()
        channels, height, width = image_shape
        layers, width_in = [], channels * height * width
        for _ in range(config.hidden_layers):
            layers += [nn.Linear(width_in, config.hidden_size), nn.ReLU()]
            if config.dropout > 0:
                layers.append(nn.Dropout(config.dropout))
            width_in = config.hidden_size
        layers.append(nn.Linear(width_in, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.flatten(1))  # (B, C*H*W) -> (B, classes)


SPEC = ModelSpec(
    **classification.FAMILY,
    name="mlp", title=N_("MLP (FNN)"), config_cls=MLPConfig, build_network=MLP,
    section=N_("Classifiers"), icon=":material/hub:", url_path="mlp",
    summary=N_("The tutorial's feed-forward network: pixels -> hidden layer(s) with ReLU -> 10 "
             "scores, trained with Adam. In theory one wide enough hidden layer can approximate "
             "any continuous function on a bounded domain as closely as you like (the universal "
             "approximation theorem); in practice depth and regularisation decide how well it "
             "generalises."),
    presets={
        N_("Tutorial (500 hidden, Adam 1e-3, batch 100, 2 epochs)"): {},
        N_("Recommended (2 x 1024, dropout 0.3, batch 128, 20 epochs, cosine)"): {
            "hidden_size": 1024, "hidden_layers": 2, "dropout": 0.3, "epochs": 20,
            "batch_size": 128, "lr_schedule": "cosine"},
    },
    references=(Reference(N_("tutorial, 2 epochs"), 0.8664, N_("the tutorial")),
                Reference(N_("MLP 256-128-64"), 0.900,
                          N_("zalandoresearch/fashion-mnist benchmark"))),
)
