"""ResNet for 28x28 images: the CIFAR-style 6n+2 network of He et al. 2015 (basic blocks).

Deep Residual Learning for Image Recognition, https://arxiv.org/abs/1512.03385 (section 4.2).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from core import classification
from core.config import TrainConfig, param
from core.i18n import N_
from core.models.spec import ModelSpec, Reference


@dataclass
class ResNetConfig(TrainConfig):
    blocks_per_stage: int = param(3, "residual blocks in each of the 3 stages: depth = 6n + 2 "
                                  "(3 gives ResNet-20)", low=1, high=9, label=N_("blocks per stage (n)"),
                                  size="depth")
    base_width: int = param(16, "channels of the first stage; doubled at each later stage",
                            low=4, high=128, label=N_("base width"), size="width")
    batch_size: int = param(128, "images per step", low=1, high=4096, label=N_("batch size"))
    epochs: int = param(3, "passes over the training set", low=1, high=200)


class BasicBlock(nn.Module):
    """Two 3x3 convs with batch norm; the input skips over them (the residual connection)."""

    def __init__(self, channels_in: int, channels_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or channels_in != channels_out:  # projection shortcut (option B)
            self.shortcut = nn.Sequential(nn.Conv2d(channels_in, channels_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(channels_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x), inplace=True)  # y = F(x) + x


class ResNet(nn.Module):
    def __init__(self, config: ResNetConfig, image_shape=(1, 28, 28), num_classes: int = 10):
        super().__init__()
        channels = image_shape[0]
        width = config.base_width
        self.stem = nn.Sequential(nn.Conv2d(channels, width, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU(inplace=True))  # (B, w, 28, 28)
        stages, channels_in = [], width
        for stage, stride in enumerate((1, 2, 2)):  # (B, w, 28, 28) -> (B, 2w, 14, 14) -> (B, 4w, 7, 7)
            channels_out = width * 2 ** stage
            for block in range(config.blocks_per_stage):
                stages.append(BasicBlock(channels_in, channels_out, stride if block == 0 else 1))
                channels_in = channels_out
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(channels_in, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        for module in self.modules():  # zero-init the last BN of each block: starts as identity
            if isinstance(module, BasicBlock):
                nn.init.zeros_(module.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.stages(self.stem(x))             # (B, 4w, H/4, W/4)
        return self.fc(features.mean(dim=(2, 3)))        # global average pool -> (B, classes)


SPEC = ModelSpec(
    **classification.FAMILY,
    name="resnet", title=N_("ResNet"), config_cls=ResNetConfig, build_network=ResNet,
    section=N_("Classifiers"), icon=":material/stacked_line_chart:", url_path="resnet",
    summary=N_("Residual blocks add their input to their output (y = F(x) + x), so gradients flow "
             "through very deep stacks: an ensemble of ResNets (the deepest 152 layers) won "
             "ImageNet 2015 with 3.57% top-5 error; a single ResNet-152 got 4.49%. "
             "Here the compact 6n+2 version the paper uses for small images."),
    presets={
        N_("Baseline (ResNet-20, Adam 1e-3, batch 128, 3 epochs)"): {},
        N_("Recommended (ResNet-20, SGD momentum, one-cycle, augment, 40 epochs)"): {
            "epochs": 40, "optimizer": "sgd", "learning_rate": 0.1,
            "momentum": 0.9, "weight_decay": 5e-4, "lr_schedule": "onecycle", "augment": True,
            "label_smoothing": 0.1},
    },
    references=(Reference(N_("ResNet-18, no augmentation"), 0.90, "d2l"),
                Reference(N_("ResNet-18, augmentation"), 0.949,
                          N_("zalandoresearch/fashion-mnist benchmark"))),
)
