"""The tutorial's vanilla GAN: MLP generator and discriminator (Goodfellow et al. 2014).

Generative Adversarial Networks, https://arxiv.org/abs/1406.2661 ; the tutorial's script is
PyTorch-GAN's implementations/gan/gan.py (latent 100, G 128-256-512-1024, D 512-256-1).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core import gan_task
from core.config import param
from core.diagnostics import GANHealth, Remedy
from core.i18n import N_, _
from core.models.gans.base import AdversarialConfig, maybe_spectral_norm
from core.models.spec import ModelSpec, Paper, Reference


@dataclass
class GANConfig(AdversarialConfig):
    generator_scale: float = param(1.0, "multiplies G's hidden widths (1 = the tutorial's "
                                   "128-256-512-1024)", low=0.03125, high=2.0,
                                   label=N_("G width scale"))
    discriminator_scale: float = param(1.0, "multiplies D's hidden widths (1 = the tutorial's 512-256)",
                                       low=0.03125, high=2.0, label=N_("D width scale"))


class Generator(nn.Module):
    def __init__(self, config: GANConfig, image_shape=(1, 28, 28)):
        super().__init__()
        self.image_shape = tuple(image_shape)
        widths = [max(4, int(w * config.generator_scale)) for w in (128, 256, 512, 1024)]

        def block(width_in: int, width_out: int, normalize: bool = True) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Linear(width_in, width_out)]
            if normalize:
                # The tutorial writes BatchNorm1d(width, 0.8): 0.8 lands on eps, not momentum. Kept
                # as the tutorial has it; it acts as a strong smoothing of the normalisation.
                layers.append(nn.BatchNorm1d(width_out, 0.8))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.model = nn.Sequential(
            *block(config.latent_dim, widths[0], normalize=False),
            *block(widths[0], widths[1]), *block(widths[1], widths[2]), *block(widths[2], widths[3]),
            nn.Linear(widths[3], int(torch.tensor(image_shape).prod())), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model(z).view(len(z), *self.image_shape)  # (B, C, H, W) in [-1, 1]


class Discriminator(nn.Module):
    """Outputs a logit; D(x) = sigmoid(logit) (BCE-with-logits is the tutorial's Sigmoid+BCELoss, stabler)."""

    def __init__(self, config: GANConfig, image_shape=(1, 28, 28)):
        super().__init__()
        widths = [max(4, int(w * config.discriminator_scale)) for w in (512, 256)]
        norm = lambda layer: maybe_spectral_norm(layer, config.spectral_norm)
        self.model = nn.Sequential(
            norm(nn.Linear(int(torch.tensor(image_shape).prod()), widths[0])),
            nn.LeakyReLU(0.2, inplace=True),
            norm(nn.Linear(widths[0], widths[1])), nn.LeakyReLU(0.2, inplace=True),
            norm(nn.Linear(widths[1], 1)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images.flatten(1)).squeeze(1)  # (B,) logits


def build(config: GANConfig, image_shape=(1, 28, 28)) -> tuple[nn.Module, nn.Module]:
    return Generator(config, image_shape), Discriminator(config, image_shape)


def capacity_remedy(config: dict) -> Remedy | None:
    """The convergence-failure demo's tiny G: back to the tutorial's widths."""
    if config.get("generator_scale", 1.0) >= 0.5:
        return None
    return Remedy(_("More capacity (G width scale 1)"), {"generator_scale": 1.0},
                  _("the tutorial: too little capacity is the usual cause; new layer sizes, so "
                    "it restarts at step 0"), from_scratch=True)


SPEC = ModelSpec(
    paper=Paper(2014, 'Goodfellow et al. 2014, arXiv:1406.2661',
                N_('the idea: a generator trained against a discriminator (here as MLPs)')),
    name="gan", title=N_("GAN"), config_cls=GANConfig, build_network=build, **gan_task.FAMILY,
    section=N_("GANs"), icon=":material/auto_awesome:", url_path="gan",
    health=GANHealth(capacity=capacity_remedy),
    summary=N_("Two networks play a game: the generator G turns random noise z into images, the "
               "discriminator D tells real from fake. Both are plain MLPs here, as in the "
               "tutorial's script. Watch the losses and the health monitor: this model tends to "
               "collapse onto a few kinds of clothing. Comparing with the tutorial's printout: its "
               "MLP GAN script prints d_loss as the mean of D's two terms, (real + fake) / 2, "
               "while its DCGAN script prints their sum; this page records the sum, as the DCGAN "
               "does (the healthy 0.5–0.8 band follows the sum), so halve it to compare with the "
               "MLP script."),
    presets={
        N_("Tutorial defaults (Adam 2e-4, beta1 0.5, batch 64, nz 100)"): {},
        N_("Mode-collapse demo (nz = 1)"): {"latent_dim": 1},
        N_("Convergence-failure demo (tiny G: 4-8-16-32 units, D lr x5)"): {
            "generator_scale": 0.03125, "learning_rate_d": 1e-3},
        N_("Stabilized (TTUR + spectral norm + smoothing)"): {
            "learning_rate_d": 4e-4, "learning_rate_g": 1e-4, "spectral_norm": True,
            "label_smoothing": 0.1},
    },
    references=(Reference(N_("Lucic et al. 2018, NS-GAN best FID on Fashion-MNIST"), 26.5,
                          N_("arXiv:1711.10337 (Inception features; not comparable)")),),
)
