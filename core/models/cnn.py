"""The tutorial's CNN: convolution + batch norm + ReLU + max-pool stages, then a linear classifier.

LeCun et al.'s idea (1989; LeNet-5, 1998) with batch norm (Ioffe & Szegedy 2015, https://arxiv.org/abs/1502.03167).
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
class CNNConfig(TrainConfig):
    conv1_channels: int = param(16, "filters in the first stage (the tutorial uses 16)", low=1, high=256,
                                label=N_("conv 1 width"), size="width")
    conv2_channels: int = param(32, "filters in the second stage (the tutorial uses 32)", low=1,
                                high=512, label=N_("conv 2 width"), size="width")
    kernel_size: int = param(5, "convolution kernel size (the tutorial uses 5)", choices=(3, 5, 7),
                             label=N_("kernel size"))
    convs_per_stage: int = param(1, "convolutions before each pooling (the tutorial uses 1)", low=1,
                                 high=3, label=N_("convs per stage"))
    fc_hidden: int = param(0, "hidden units before the output layer (0 = none, as the tutorial)",
                           low=0, high=2048, label=N_("fc hidden"), size="width")
    dropout: float = param(0.0, "dropout before the output layer(s)", low=0.0, high=0.9)


def conv_stage(channels_in: int, channels_out: int, kernel_size: int, convs: int) -> nn.Sequential:
    layers = []
    for index in range(convs):
        layers += [nn.Conv2d(channels_in if index == 0 else channels_out, channels_out,
                             kernel_size, padding=kernel_size // 2, bias=False),
                   nn.BatchNorm2d(channels_out), nn.ReLU(inplace=True)]
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class ConvNet(nn.Module):
    def __init__(self, config: CNNConfig, image_shape=(1, 28, 28), num_classes: int = 10):
        super().__init__()
        channels, height, width = image_shape
        k, convs = config.kernel_size, config.convs_per_stage
        self.features = nn.Sequential(
            conv_stage(channels, config.conv1_channels, k, convs),              # (B, c1, H/2, W/2)
            conv_stage(config.conv1_channels, config.conv2_channels, k, convs))  # (B, c2, H/4, W/4)
        flat = config.conv2_channels * (height // 4) * (width // 4)
        head: list[nn.Module] = [nn.Flatten()]
        if config.fc_hidden:
            head += [nn.Dropout(config.dropout), nn.Linear(flat, config.fc_hidden),
                     nn.ReLU(inplace=True)]
            flat = config.fc_hidden
        head += [nn.Dropout(config.dropout), nn.Linear(flat, num_classes)]
        self.classifier = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))  # (B, classes)


SPEC = ModelSpec(
    **classification.FAMILY,
    name="cnn", title=N_("CNN"), config_cls=CNNConfig, build_network=ConvNet,
    section=N_("Classifiers"), icon=":material/grid_on:", url_path="cnn",
    summary=N_("Convolutions look for small patterns wherever they appear; max-pooling keeps the "
             "strongest response in each 2×2 window and discards the other three, so the maps "
             "shrink 4× and the net tolerates small shifts, at the cost of exactly where a pattern "
             "was. The tutorial's net: two 5x5 conv stages (16 and 32 filters) with batch norm, "
             "then one linear layer."),
    presets={
        N_("Tutorial (16/32 filters, 5x5, Adam 1e-3, batch 100, 2 epochs)"): {},
        N_("Recommended (3x3, fc 128, batch 128, one-cycle lr 3e-3, 3 epochs)"): {
            "kernel_size": 3, "fc_hidden": 128, "batch_size": 128, "learning_rate": 3e-3,
            "lr_schedule": "onecycle", "epochs": 3},
        N_("Shipped checkpoint (32/64 filters, fc 256, dropout, augment, 15 epochs)"): {
            "conv1_channels": 32, "conv2_channels": 64, "kernel_size": 3, "fc_hidden": 256,
            "dropout": 0.3, "epochs": 15, "batch_size": 128, "learning_rate": 3e-3,
            "lr_schedule": "onecycle", "augment": True},
    },
    references=(Reference(N_("tutorial, 2 epochs"), 0.8789, N_("the tutorial")),
                Reference(N_("two-conv CNNs (best)"), 0.932,
                          N_("zalandoresearch/fashion-mnist benchmark"))),
)
