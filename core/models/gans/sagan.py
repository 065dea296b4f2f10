"""SAGAN: a class-conditional GAN with self-attention at the 16×16 feature maps of G and D.

Self-Attention GANs (Zhang et al. 2019), https://arxiv.org/abs/1805.08318 . What the paper changed
from the convolutional GANs before it:
  - self-attention: a pixel's features mix in those of every other position, weighted by a
    softmax of query · key, so far-apart parts of an object can agree (convolutions only see a
    few pixels around); the block's output is scaled by a learned γ that starts at 0;
  - spectral norm on G as well as D, and TTUR (D 4e-4, G 1e-4, Adam β1 0, β2 0.9), which let D take
    one step per G step instead of five;
  - hinge loss, class-conditional batch norm in G and a projection D (Miyato & Koyama 2018).
ImageNet 128 px: Inception score 36.8 → 52.52, FID 27.62 → 18.65. The networks follow
PyTorch-StudioGAN's 32 px SAGAN (DCGAN-like transposed-conv G, strided-conv D) at CPU widths.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from core import gan_task
from core.config import param
from core.i18n import N_
from core.models.gans.conditional import (ConditionalBatchNorm2d, ConditionalConfig,
                                          ConditionalGANTrainer, ProjectionHead, SelfAttention,
                                          attention_layers, spectral_norm)
from core.models.gans.hinge_health import HingeHealth
from core.models.spec import ModelSpec, Paper, Reference

NAME = "sagan"


@dataclass
class SAGANConfig(ConditionalConfig):
    generator_width: int = param(16, "channels of G's last (32×32) stage; each stage before has "
                                 "twice as many, so the attention block at 16×16 reads 2× this "
                                 "(StudioGAN's CIFAR-10 net: 64)", low=2, high=128, label=N_("ngf"),
                                 size="width")
    discriminator_width: int = param(32, "channels of D's first (16×16) stage, where its attention "
                                     "block sits; doubling per stage (StudioGAN: 64)", low=2,
                                     high=128, label=N_("ndf"), size="width")

    def attention_channels(self) -> dict[str, int]:
        return {"generator_width": 2 * self.generator_width,
                "discriminator_width": self.discriminator_width}


class UpBlock(nn.Module):
    """Transposed conv (×2) → class-conditional batch norm → ReLU (StudioGAN's SAGAN block)."""

    def __init__(self, inputs: int, outputs: int, classes: int, use_spectral_norm: bool):
        super().__init__()
        self.conv = spectral_norm(nn.ConvTranspose2d(inputs, outputs, 4, 2, 1), use_spectral_norm)
        self.norm = ConditionalBatchNorm2d(outputs, classes) if classes \
            else nn.BatchNorm2d(outputs)

    def forward(self, x: torch.Tensor, classes: torch.Tensor | None) -> torch.Tensor:
        x = self.conv(x)
        x = self.norm(x, classes) if classes is not None else self.norm(x)
        return F.relu(x)


class Generator(nn.Module):
    """[z, class] -> (B, C, 32, 32): linear to 4×4, three ×2 stages, attention after the 16×16 one."""

    def __init__(self, config: SAGANConfig, image_shape=(1, 32, 32)):
        super().__init__()
        width, sn = config.generator_width, config.spectral_norm_generator
        self.latent_dim = config.latent_dim
        classes = config.classes if config.conditional else 0
        widths = [8 * width, 4 * width, 2 * width, width]                   # 4, 8, 16, 32 px
        self.start = widths[0]
        self.project = spectral_norm(nn.Linear(config.latent_dim, widths[0] * 4 * 4), sn)
        self.blocks = nn.ModuleList(UpBlock(widths[i], widths[i + 1], classes, sn)
                                    for i in range(3))
        self.attention = SelfAttention(widths[2], config.attention_reduction,
                                       config.attention_heads, sn) \
            if config.self_attention else None
        self.to_image = spectral_norm(nn.Conv2d(width, image_shape[0], 3, 1, 1), sn)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        z, class_vector = latent[:, :self.latent_dim], latent[:, self.latent_dim:]
        classes = class_vector if class_vector.shape[1] else None
        x = self.project(z).view(len(z), self.start, 4, 4)                  # (B, 8w, 4, 4)
        for index, block in enumerate(self.blocks):                         # 8, 16, 32 px
            x = block(x, classes)
            if index == 1 and self.attention is not None:                    # (B, 2w, 16, 16)
                x = self.attention(x)
        return torch.tanh(self.to_image(x))                                # (B, C, 32, 32)


class DownBlock(nn.Module):
    """3×3 conv → LeakyReLU → 4×4 conv with stride 2 → LeakyReLU, both spectrally normalised."""

    def __init__(self, inputs: int, outputs: int):
        super().__init__()
        self.conv = spectral_norm(nn.Conv2d(inputs, outputs, 3, 1, 1))
        self.down = spectral_norm(nn.Conv2d(outputs, outputs, 4, 2, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.down(F.leaky_relu(self.conv(x), 0.1)), 0.1)


class Discriminator(nn.Module):
    """(B, C, 32, 32) and a class vector -> (B,) scores: three /2 stages (attention after the
    16×16 one), a 3×3 conv, sum pooling, then the projection head."""

    def __init__(self, config: SAGANConfig, image_shape=(1, 32, 32)):
        super().__init__()
        width = config.discriminator_width
        widths = [image_shape[0], width, 2 * width, 4 * width]              # 32 -> 16, 8, 4 px
        self.blocks = nn.ModuleList(DownBlock(widths[i], widths[i + 1]) for i in range(3))
        self.attention = SelfAttention(width, config.attention_reduction, config.attention_heads) \
            if config.self_attention else None
        self.last = spectral_norm(nn.Conv2d(4 * width, 8 * width, 3, 1, 1))
        self.head = ProjectionHead(8 * width, config.classes, config.conditional)

    def forward(self, images: torch.Tensor, classes: torch.Tensor | None = None) -> torch.Tensor:
        x = images
        for index, block in enumerate(self.blocks):
            x = block(x)
            if index == 0 and self.attention is not None:                    # (B, w, 16, 16)
                x = self.attention(x)
        features = F.leaky_relu(self.last(x), 0.1).sum((2, 3))             # (B, 8w)
        return self.head(features, classes)


def build(config: SAGANConfig, image_shape=(1, 32, 32)) -> tuple[nn.Module, nn.Module]:
    """G and D at ``config.image_size`` (32 px) with ``image_shape``'s channels."""
    shape = (image_shape[0], config.image_size, config.image_size)
    return Generator(config, shape), Discriminator(config, shape)


class SAGANTrainer(ConditionalGANTrainer):
    """The conditional hinge trainer; its own figures: γ of G's and D's attention blocks, the
    measure of how much each network came to use attention."""

    config: SAGANConfig

    def step_metrics(self) -> dict[str, torch.Tensor]:
        values = {}
        for network, label in ((self.generator, "g"), (self.discriminator, "d")):
            for _, block in attention_layers(network)[:1]:
                values[f"{NAME}/gamma_{label}"] = block.gamma.detach().clone()
        return values


SPEC = ModelSpec(
    paper=Paper(2018, 'Zhang et al. 2018, arXiv:1805.08318', N_('self-attention (every pixel looks at every other), spectral norm in G too, hinge loss, TTUR')),
    name=NAME, title=N_("SAGAN"), config_cls=SAGANConfig, build_network=build, **gan_task.FAMILY,
    section=N_("GANs"), icon=":material/center_focus_strong:", url_path="sagan",
    trainer=SAGANTrainer, health=HingeHealth(latent_default=128),
    panel="ui.panels.sagan:SAGANPanel",
    summary=N_("Self-Attention GAN (Zhang et al. 2019), class-conditional: pick a garment and G "
                "draws it. What the paper changed: a self-attention block lets every pixel of a 16×16 "
                "feature map look at every other one (a convolution sees only its neighbours), scaled "
                "by a learned γ that starts at 0; spectral norm on G as well as D; hinge loss; and "
                "TTUR (D 4e-4, G 1e-4), so D needs one step per G step. On ImageNet 128 px it raised "
                "the Inception score from 36.8 to 52.5 and cut the FID from 27.6 to 18.7 (the paper's "
                "figures, another dataset and size: context, not a target)."),
    presets={
        N_("CPU (the paper's settings at ngf 16 / ndf 32; stops after 60 min)"): {
            "epochs": 20, "time_budget_s": 3600.0},
        N_("Paper widths (ngf = ndf = 64, as StudioGAN's 32 px SAGAN; for a GPU)"): {
            "generator_width": 64, "discriminator_width": 64},
        N_("No attention (γ fixed at 0: the ablation)"): {"self_attention": False},
        N_("Unconditional (plain batch norm, no projection)"): {"conditional": False},
        N_("Failure demo (no TTUR: D lr 4e-3 and 5 D steps)"): {
            "learning_rate_d": 4e-3, "discriminator_steps": 5},
    },
    references=(Reference(N_("SAGAN, ImageNet 128 px: Inception score"), 52.52, "arXiv:1805.08318"),
                Reference(N_("SAGAN, ImageNet 128 px: FID"), 18.65, "arXiv:1805.08318")),
)
