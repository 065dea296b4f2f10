"""DCGAN: transposed-conv generator and strided-conv discriminator (Radford et al. 2015).

Unsupervised Representation Learning with Deep Convolutional GANs, https://arxiv.org/abs/1511.06434 ;
the tutorial's script is pytorch/examples' dcgan/main.py (nz, ngf, ndf; weights N(0, 0.02)).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core import gan_task
from core.config import param
from core.diagnostics import GANHealth, width_capacity
from core.i18n import N_
from core.models.gans.base import AdversarialConfig, maybe_spectral_norm
from core.models.spec import ModelSpec, Paper, Reference


@dataclass
class DCGANConfig(AdversarialConfig):
    image_size: int = param(32, "generated image size: 64 as in the tutorial, 32 for a CPU (one "
                            "stage fewer)", choices=(32, 64), label=N_("image size"))
    generator_width: int = param(32, "channels of G's last hidden layer (the tutorial's ngf; G's "
                                 "first layer has 4x or 8x)", low=1, high=128, label=N_("ngf"),
                                 size="width")
    discriminator_width: int = param(32, "channels of D's first layer (the tutorial's ndf)", low=1,
                                     high=128, label=N_("ndf"), size="width")


def weights_init(module: nn.Module) -> None:
    """The tutorial's init: conv weights N(0, 0.02), batch-norm scales N(1, 0.02), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    def __init__(self, config: DCGANConfig, image_shape=(1, 32, 32)):
        super().__init__()
        ngf, channels = config.generator_width, image_shape[0]
        stages = 4 if config.image_size == 64 else 3     # upsampling stages after the 4x4 start
        width = ngf * 2 ** (stages - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(config.latent_dim, width, 4, 1, 0, bias=False),  # (B, ngf*8, 4, 4)
            nn.BatchNorm2d(width), nn.ReLU(True)]
        for _ in range(stages - 1):                      # each doubles H, W and halves channels
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width // 2), nn.ReLU(True)]
            width //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)                # (B, C, size, size)
        self.latent_dim = config.latent_dim
        self.apply(weights_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z.view(len(z), self.latent_dim, 1, 1))


class Discriminator(nn.Module):
    def __init__(self, config: DCGANConfig, image_shape=(1, 32, 32)):
        super().__init__()
        ndf, channels = config.discriminator_width, image_shape[0]
        stages = 4 if config.image_size == 64 else 3
        norm = lambda layer: maybe_spectral_norm(layer, config.spectral_norm)
        layers: list[nn.Module] = [norm(nn.Conv2d(channels, ndf, 4, 2, 1, bias=False)),
                                   nn.LeakyReLU(0.2, inplace=True)]  # (B, ndf, size/2, size/2)
        width = ndf
        for _ in range(stages - 1):                       # each halves H, W, doubles channels
            layers.append(norm(nn.Conv2d(width, width * 2, 4, 2, 1, bias=False)))
            if not config.spectral_norm:  # SN-GAN's D has no batch norm: SN does its job
                layers.append(nn.BatchNorm2d(width * 2))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            width *= 2
        layers.append(norm(nn.Conv2d(width, 1, 4, 1, 0, bias=False)))  # (B, 1, 1, 1) logit
        self.main = nn.Sequential(*layers)
        self.apply(weights_init)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.main(images).view(-1)                 # (B,) logits; D(x) = sigmoid


def build(config: DCGANConfig, image_shape=(1, 32, 32)) -> tuple[nn.Module, nn.Module]:
    return Generator(config, image_shape), Discriminator(config, image_shape)


SPEC = ModelSpec(
    paper=Paper(2015, 'Radford et al. 2015, arXiv:1511.06434',
                N_('convolutions, batch norm and strided layers instead of MLPs: stable training, '
                   'sharper images'), baseline=True),
    name="dcgan", title=N_("DCGAN"), config_cls=DCGANConfig, build_network=build, **gan_task.FAMILY,
    section=N_("GANs"), icon=":material/blur_on:", url_path="dcgan",
    health=GANHealth(capacity=width_capacity()),
    summary=N_("The GAN made of convolutions: G upsamples noise with transposed convolutions, D "
               "downsamples with strided ones, batch norm everywhere but G's output and D's "
               "input. The tutorial's rules for a healthy run: d_loss settles near 0.5–0.8, "
               "g_loss near 0.5–2, D right about 80% of the time. The convergence-failure demo "
               "uses the tutorial's CPU setting, ngf = ndf = 2 at 64 px: the tutorial still got "
               "digits after 8 epochs of MNIST with it, but here, on Fashion-MNIST, D wins within "
               "400 steps and the monitor calls convergence failure — a demo of the failure, not "
               "a copy of its result."),
    presets={
        N_("Tutorial defaults (32 px for CPU, ngf = ndf = 32, Adam 2e-4)"): {},
        N_("Mode-collapse demo (nz = 1)"): {"latent_dim": 1},
        N_("Convergence-failure demo (ngf = ndf = 2, 64 px: the tutorial's CPU setting)"): {
            "generator_width": 2, "discriminator_width": 2, "image_size": 64},
        N_("Stabilized (TTUR + spectral norm + smoothing)"): {
            "learning_rate_d": 4e-4, "learning_rate_g": 1e-4, "spectral_norm": True,
            "label_smoothing": 0.1},
    },
    references=(Reference(N_("Lucic et al. 2018, NS-GAN best FID on Fashion-MNIST"), 26.5,
                          N_("arXiv:1711.10337 (Inception features; not comparable)")),),
)
