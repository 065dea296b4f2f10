"""Softmax regression: one linear layer, cross-entropy (softmax is folded into the loss).

The tutorial's first model; see d2l's chapter https://d2l.ai/chapter_linear-classification/softmax-regression.html
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core import classification
from core.config import TrainConfig, param
from core.i18n import N_
from core.models.spec import ModelSpec, Reference


@dataclass
class SoftmaxConfig(TrainConfig):
    learning_rate: float = param(0.01, "step size (the tutorial's lr = 0.01)", low=1e-6, high=10.0,
                                 log=True, label=N_("learning rate (lr)"))
    batch_size: int = param(20, "images per step (the tutorial's batch_size = 20)", low=1, high=4096,
                            label=N_("batch size"))
    epochs: int = param(5, "passes over the training set (the tutorial trains 5)", low=1, high=200)
    optimizer: str = param("sgd", "SGD as in the tutorial, or Adam", choices=("sgd", "adam"))


class SoftmaxRegression(nn.Module):
    def __init__(self, config: SoftmaxConfig, image_shape=(1, 28, 28), num_classes: int = 10):
        super().__init__()
        channels, height, width = image_shape
        self.fc = nn.Linear(channels * height * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))  # (B, C*H*W) -> (B, classes); softmax lives in the loss


SPEC = ModelSpec(
    **classification.FAMILY,
    name="softmax", title=N_("Softmax regression"), config_cls=SoftmaxConfig,
    section=N_("Classifiers"), icon=":material/show_chart:", url_path="softmax",
    build_network=SoftmaxRegression,
    summary=N_("A single linear layer maps the 784 pixels to 10 scores; softmax turns them into "
             "probabilities, and the cross-entropy loss compares those with the true class "
             "(PyTorch folds the softmax into its loss). No hidden layer, so it can only draw "
             "straight boundaries between classes: the tutorial says it tops out near 86%."),
    presets={
        N_("Tutorial (SGD lr 0.01, batch 20, 5 epochs)"): {},
        N_("Recommended (SGD + momentum, batch 64, 10 epochs, cosine)"): {
            "learning_rate": 0.02, "batch_size": 64, "epochs": 10, "momentum": 0.9,
            "lr_schedule": "cosine"},
    },
    references=(Reference(N_("tutorial, 5 epochs (train acc)"), 0.842, N_("the tutorial")),
                Reference(N_("d2l softmax, 10 epochs"), 0.835,
                          N_("Dive into Deep Learning"))),
)
