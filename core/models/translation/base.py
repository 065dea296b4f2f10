"""What pix2pix and CycleGAN share: the settings, the PatchGAN discriminator, the papers'
constant-then-linear learning-rate decay and a trainer skeleton (G and D with Adam, state, D's
patch metrics). The losses, the weight helpers and Adam come from the GAN family
(``core.models.gans.base``).

PatchGAN (Isola et al. 2017, https://arxiv.org/abs/1611.07004, section 2.2.2): D scores every
overlapping patch of an image as real or fake instead of the whole image; the map of scores is
what the pages draw.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core.config import param
from core.i18n import N_
from core.models.gans.base import (LOSSES, AdversarialLoop, discriminator_metrics, label_smoothing_param,
                                   make_adam)
from core.optim import lr_factor, set_learning_rates

IMAGE_SHAPE = (1, 28, 28)


def linear_decay(progress: float, decay_start: float) -> float:
    """The papers' schedule: the full rate until ``decay_start`` of the run, then linearly to 0
    (pix2pix's and CycleGAN's code: n_epochs constant + n_epochs_decay linear)."""
    if progress <= decay_start:
        return 1.0
    return max(0.0, (1.0 - progress) / max(1.0 - decay_start, 1e-9))


@dataclass
class TranslationConfig(AdversarialLoop):
    """Settings both translation models share (the papers' Adam 2e-4, beta1 0.5)."""
    lr_schedule: str = param("linear_decay", "learning-rate schedule: the papers keep the rate "
                             "for the first part of the run, then decay it linearly to 0",
                             choices=("linear_decay", "constant", "cosine", "onecycle"),
                             advanced=True)
    decay_start: float = param(0.5, "with linear_decay: the share of the run at the full rate "
                               "before the decay starts (the papers: half)", low=0.0, high=1.0,
                               advanced=True)
    learning_rate_g: float = param(2e-4, "generator learning rate (the papers: 2e-4)", low=1e-6,
                                   high=1e-2, log=True, label=N_("learning rate G"))
    learning_rate_d: float = param(2e-4, "discriminator learning rate (the papers: 2e-4)",
                                   low=1e-6, high=1e-2, log=True, label=N_("learning rate D"))
    beta1: float = param(0.5, "Adam's beta1 (the papers: 0.5)", low=0.0, high=0.999,
                         label=N_("Adam beta1"))
    label_smoothing: float = label_smoothing_param()
    sample_every_steps: int = param(100, "refresh the grid of fixed test images every N steps",
                                    low=1, high=100000, advanced=True,
                                    label=N_("test grid every N steps"))
    monitor_every_windows: int = param(5, "measure the fixed test images (and classify the "
                                       "outputs with the shipped CNN) every N metric windows "
                                       "(0 = never)", low=0, high=1000, advanced=True,
                                       label=N_("test check every N windows"))


# The discriminator ---------------------------------------------------------------------------

def norm_layer(kind: str, channels: int) -> nn.Module:
    """pix2pix normalises with batch norm; CycleGAN with instance norm (no learned scale)."""
    return nn.BatchNorm2d(channels) if kind == "batch" else nn.InstanceNorm2d(channels)


class PatchGAN(nn.Module):
    """pix2pix's N-layer discriminator: (B, C, H, W) -> (B, 1, H', W'), one score per patch.

    ``layers`` stride-2 convolutions, then two stride-1 ones; with layers = 1 a 32 px image gives
    a 14 x 14 map of scores, each seeing 16 x 16 pixels (``receptive_field``)."""

    def __init__(self, in_channels: int, width: int, layers: int, norm: str = "batch"):
        super().__init__()
        use_bias = norm != "batch"           # batch norm's shift makes a bias redundant
        stack: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, 2, 1),      # (B, w, H/2, W/2)
                                  nn.LeakyReLU(0.2, True)]
        channels = width
        for index in range(1, layers):                                         # halves H, W
            out = width * min(2 ** index, 8)
            stack += [nn.Conv2d(channels, out, 4, 2, 1, bias=use_bias), norm_layer(norm, out),
                      nn.LeakyReLU(0.2, True)]
            channels = out
        out = width * min(2 ** layers, 8)
        stack += [nn.Conv2d(channels, out, 4, 1, 1, bias=use_bias), norm_layer(norm, out),
                  nn.LeakyReLU(0.2, True),                                      # H - 1
                  nn.Conv2d(out, 1, 4, 1, 1)]                                   # (B, 1, H-2, W-2)
        self.main = nn.Sequential(*stack)
        self.layers = layers

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.main(images)


def receptive_field(layers: int) -> int:
    """Pixels one score of ``PatchGAN(layers=...)`` sees (4 x 4 kernels: 16 px for 1 layer,
    34 px for 2, 70 px for the paper's 3)."""
    size, jump = 1, 1
    for stride in [2] * layers + [1, 1]:
        size += 3 * jump
        jump *= stride
    return size


def patch_scores(scores: torch.Tensor, loss: str) -> torch.Tensor:
    """D's raw outputs as "how real": a probability for BCE logits, the score itself for least
    squares (trained towards 1 for real and 0 for generated)."""
    return torch.sigmoid(scores) if loss == "bce" else scores


def patch_metrics(real: torch.Tensor, fake: torch.Tensor, after: torch.Tensor, loss: str
                  ) -> dict[str, torch.Tensor]:
    """D's outputs and per-patch accuracy, as the GAN pages chart them (tensors, no host sync):
    with BCE, GAN's own ``discriminator_metrics``; with least squares, a patch counts as judged
    right when its score is on the right side of 0.5."""
    if loss == "bce":
        return discriminator_metrics(real, fake, after)
    accuracy_real, accuracy_fake = (real > 0.5).float().mean(), (fake < 0.5).float().mean()
    return {"d/real": real.mean(), "d/fake_before_g": fake.mean(), "d/fake_after_g": after.mean(),
            "d_accuracy/real": accuracy_real, "d_accuracy/fake": accuracy_fake,
            "d_accuracy/mean": (accuracy_real + accuracy_fake) / 2}


# The trainer skeleton --------------------------------------------------------------------------

class TranslationTrainer:
    """G and D (each a module, or a ModuleDict of two for CycleGAN) with their Adam optimizers.

    A model subclasses it with what differs: ``prepare`` (its pairs or domains), ``batch``,
    ``train_step``, ``translate`` and the figures (``monitor_statistics``, ``preview``,
    ``evaluate``, ``final_evaluation``). ``core.translation_task`` drives it."""

    def __init__(self, spec, config, device: torch.device):
        self.config, self.device, self.image_shape = config, device, IMAGE_SHAPE
        generator, discriminator = spec.build_network(config, self.image_shape)
        self.generator, self.discriminator = generator.to(device), discriminator.to(device)
        self.optimizer_g = make_adam(self.generator.parameters(), config.learning_rate_g,
                                     config.beta1)
        self.optimizer_d = make_adam(self.discriminator.parameters(), config.learning_rate_d,
                                     config.beta1)
        self.loss = LOSSES[config.gan_loss]
        self.count = 0
        self.data_id: int | None = None     # which dataset ``prepare`` last read

    def parameters(self):
        return list(self.generator.parameters()) + list(self.discriminator.parameters())

    def set_progress(self, progress: float) -> float:
        config = self.config
        factor = linear_decay(progress, config.decay_start) \
            if config.lr_schedule == "linear_decay" else lr_factor(config.lr_schedule, progress)
        set_learning_rates([(self.optimizer_d, config.learning_rate_d),
                            (self.optimizer_g, config.learning_rate_g)], factor)
        return config.learning_rate_g * factor

    def ensure_prepared(self, data) -> None:
        """``prepare`` the data once (the pages and ``evaluate`` reuse a restored model)."""
        if self.data_id != id(data):
            self.prepare(data)
            self.data_id = id(data)

    def prepare(self, data) -> None:
        """Build the model's training and test images from ``data`` (each model's own)."""
        raise NotImplementedError

    def final_evaluation(self, judge) -> dict:
        """What the finished run stores in its checkpoint besides the figures and the test grid
        (nothing by default)."""
        return {}

    def state(self) -> dict:
        return {"state_dict": {"generator": self.generator.state_dict(),
                               "discriminator": self.discriminator.state_dict()},
                "image_shape": list(self.image_shape),
                "optimizer": {"generator": self.optimizer_g.state_dict(),
                              "discriminator": self.optimizer_d.state_dict()}}

    def load_state(self, payload: dict, with_optimizer: bool = True) -> None:
        networks = payload["state_dict"]
        self.generator.load_state_dict(networks["generator"])
        self.discriminator.load_state_dict(networks["discriminator"])
        if with_optimizer and payload.get("optimizer"):
            try:
                self.optimizer_g.load_state_dict(payload["optimizer"]["generator"])
                self.optimizer_d.load_state_dict(payload["optimizer"]["discriminator"])
            except (ValueError, KeyError):
                pass  # another optimizer layout: keep the fresh optimizer state


def reference_distance(images: torch.Tensor, generator: torch.Generator) -> float:
    """Mean |x_i − x_j| between an image and another of the same set (in [-1, 1]): how far "some
    other image" is, the yardstick of the cycle error and of the own-vs-other ratio."""
    other = images[torch.randperm(len(images), generator=generator).to(images.device)]
    return float((images - other).abs().mean())
