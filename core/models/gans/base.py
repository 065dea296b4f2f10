"""What every GAN here shares: the config, named losses, G's weight average, image helpers and the
trainer with one D step and one G step. A new GAN subclasses ``GANTrainer`` where its step differs.

Loss convention (the tutorial's DCGAN): ``loss/discriminator`` is errD = BCE(D(x), 1) +
BCE(D(G(z)), 0) (a sum, so its healthy band 0.5-0.8 matches D being right ~80% of the time);
``loss/generator`` is the non-saturating BCE(D(G(z)), 1). D outputs logits; D(x) = sigmoid(logit).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from core.config import BaseConfig, param
from core.i18n import N_
from core.optim import lr_factor, make_adam, set_learning_rates

__all__ = ["AdversarialConfig", "GANTrainer", "LOSSES", "WeightAverage", "ramped_decay",
           "make_adam", "maybe_spectral_norm", "generator_average_param", "label_smoothing_param",
           "to_uint8", "to_gan_range", "slerp", "mean_pairwise_distance",
           "nearest_neighbour_distance"]


# Settings --------------------------------------------------------------------------------------

def generator_average_param():
    """The ``generator_ema`` setting, shared by every GAN config."""
    return param(0.0, "keep an exponential moving average of G's weights with this decay and draw "
                 "the finished model's images with it (as StyleGAN's G_ema; 0.999 averages over "
                 "about the last 1,000 steps). It smooths the pixel speckle a single step leaves. "
                 "0 = off, as in the tutorial", choices=(0.0, 0.99, 0.999, 0.9995, 0.9999),
                 label=N_("G weight average (EMA decay)"), zero_means=N_("off"))


def label_smoothing_param():
    """One-sided label smoothing as an amount s (real images labelled 1 − s), the same kind of
    number as a classifier's ``label_smoothing``."""
    return param(0.0, "one-sided label smoothing: real images are labelled 1 − s instead of 1 "
                 "(the tutorial: 0.9 works well, s = 0.1); generated ones stay 0",
                 choices=(0.0, 0.1, 0.2, 0.3), zero_means=N_("off"),
                 label=N_("label smoothing s (real = 1 − s)"))


@dataclass
class AdversarialLoop(BaseConfig):
    """The loop settings every adversarial model has — the GANs and the image-to-image models —
    with the tutorial's defaults (Adam 2e-4 for both, beta1 0.5, batch 64). A model redeclares
    a field only to change its default or say what its paper used; a redeclared field keeps its
    place in the forms."""
    learning_rate_d: float = param(2e-4, "discriminator learning rate (TTUR uses 4e-4)", low=1e-6,
                                   high=1e-2, log=True, label=N_("learning rate D"))
    learning_rate_g: float = param(2e-4, "generator learning rate (TTUR uses 1e-4)", low=1e-6,
                                   high=1e-2, log=True, label=N_("learning rate G"))
    batch_size: int = param(64, "real images per step (the tutorial's batch_size)", low=2,
                            high=1024, label=N_("batch size"))
    epochs: int = param(2, "passes over the training set", low=1, high=200)
    beta1: float = param(0.5, "Adam's beta1 (the tutorial's b1 / beta1)", low=0.0, high=0.999,
                         label=N_("Adam beta1"))
    sample_every_steps: int = param(100, "refresh the fixed-noise sample grid every N steps",
                                    low=1, high=100000, advanced=True,
                                    label=N_("sample grid every N steps"))
    monitor_every_windows: int = param(5, "classify generated images with the shipped CNN every "
                                       "N metric windows (0 = never)", low=0, high=1000,
                                       advanced=True, label=N_("class check every N windows"))


@dataclass
class AdversarialConfig(AdversarialLoop):
    """The tutorial's GANs (GAN, DCGAN, infoGAN): noise z of the tutorial's size (nz 100), label
    smoothing, spectral norm on D and G's weight average on top of the loop."""
    latent_dim: int = param(100, "length of the noise vector z (the tutorial's nz); 1 provokes "
                            "mode collapse", low=1, high=200, label=N_("nz (latent size)"))
    label_smoothing: float = label_smoothing_param()
    spectral_norm: bool = param(False, "spectral normalisation on D's layers (Miyato et al. 2018)",
                                label=N_("spectral norm on D"))
    generator_ema: float = generator_average_param()

    @classmethod
    def upgrade(cls, values: dict) -> dict:
        """Before label smoothing was an amount it was a switch (on meant real = 0.9)."""
        smoothing = values.get("label_smoothing")
        if isinstance(smoothing, str) and smoothing.strip().lower() in ("true", "false", "on",
                                                                       "off", "yes", "no"):
            smoothing = smoothing.strip().lower() in ("true", "on", "yes")
        if isinstance(smoothing, bool):
            values["label_smoothing"] = 0.1 if smoothing else 0.0
        return values


def maybe_spectral_norm(layer: nn.Module, enabled: bool) -> nn.Module:
    return nn.utils.parametrizations.spectral_norm(layer) if enabled else layer


# Losses, named as PyTorch-StudioGAN's losses.py names them --------------------------------------

class Loss(NamedTuple):
    discriminator: Callable[..., torch.Tensor]   # (logits_real, logits_fake, real_label) -> loss
    generator: Callable[[torch.Tensor], torch.Tensor]   # (logits_fake) -> loss
    description: str


def _bce_d(logits_real, logits_fake, real_label: float = 1.0) -> torch.Tensor:
    """The tutorial's errD: BCE(D(x), real_label) + BCE(D(G(z)), 0), a sum of the two."""
    return (F.binary_cross_entropy_with_logits(logits_real, torch.full_like(logits_real, real_label))
            + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake)))


def _bce_g(logits_fake) -> torch.Tensor:
    """Non-saturating: maximise log D(G(z)) (Goodfellow et al. 2014, section 3)."""
    return F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))


def _hinge_d(logits_real, logits_fake, real_label: float = 1.0) -> torch.Tensor:
    """Hinge (Lim & Ye 2017; SAGAN, BigGAN): mean relu(1 − D(x)) + mean relu(1 + D(G(z)))."""
    return F.relu(1 - logits_real).mean() + F.relu(1 + logits_fake).mean()


def _hinge_g(logits_fake) -> torch.Tensor:
    return -logits_fake.mean()


def _least_squares_d(logits_real, logits_fake, real_label: float = 1.0) -> torch.Tensor:
    """LSGAN (Mao et al. 2017): ½(D(x) − 1)² + ½ D(G(z))²."""
    return 0.5 * ((logits_real - real_label) ** 2).mean() + 0.5 * (logits_fake ** 2).mean()


def _least_squares_g(logits_fake) -> torch.Tensor:
    return 0.5 * ((logits_fake - 1) ** 2).mean()


LOSSES = {
    "bce": Loss(_bce_d, _bce_g, "binary cross-entropy, non-saturating G (the tutorial's)"),
    "hinge": Loss(_hinge_d, _hinge_g, "hinge (SAGAN, BigGAN)"),
    "least_squares": Loss(_least_squares_d, _least_squares_g, "least squares (LSGAN)"),
}


def discriminator_metrics(logits_real, logits_fake, logits_after) -> dict[str, torch.Tensor]:
    """D's outputs and accuracy on a step's batches, as tensors (no host sync): D(x), D(G(z))
    before and after the G step, and how often D is right on real and on generated images."""
    accuracy_real = (logits_real > 0).float().mean()
    accuracy_fake = (logits_fake < 0).float().mean()
    return {"d/real": torch.sigmoid(logits_real).mean(),
            "d/fake_before_g": torch.sigmoid(logits_fake).mean(),
            "d/fake_after_g": torch.sigmoid(logits_after).mean(),
            "d_accuracy/real": accuracy_real, "d_accuracy/fake": accuracy_fake,
            "d_accuracy/mean": (accuracy_real + accuracy_fake) / 2}


def gradient_norm(network: nn.Module) -> torch.Tensor:
    """The L2 norm of all of a network's gradients (after backward, before the optimizer step)."""
    return nn.utils.clip_grad_norm_(network.parameters(), math.inf)


# G's weight average ----------------------------------------------------------------------------

def ramped_decay(decay: float, steps: int, rampup: float) -> float:
    """StyleGAN2's ema_rampup: the average's half-life is at most ``rampup`` of the ``steps``
    so far, up to the configured ``decay``."""
    return min(decay, 0.5 ** (1.0 / max(steps * rampup, 1.0)))


class WeightAverage:
    """An exponential moving average of a network's weights: avg = decay · avg + (1 − decay) · live
    after every step (StyleGAN's G_ema). Batch-norm running statistics are copied from the live
    network, not averaged (they already are averages). ``decay`` 0 keeps none."""

    def __init__(self, decay: float, rampup: float | None = None, updates: int = 0):
        self.decay = decay
        self.rampup = rampup      # StyleGAN2's ema_rampup: the half-life is at most this share
        self.updates = updates    # of the updates so far, so a short run's average is not still
        self.network: nn.Module | None = None   # mostly the random initial weights

    def current_decay(self) -> float:
        """The decay of the next update: ``decay``, or less early on when ramping up."""
        return ramped_decay(self.decay, self.updates, self.rampup) if self.rampup else self.decay

    def start(self, live: nn.Module, state: dict | None = None) -> None:
        """Begin at the live weights, or at ``state`` (where a saved run left the average)."""
        self.network = copy.deepcopy(live).requires_grad_(False)
        if state is not None:
            self.network.load_state_dict(state)

    @torch.no_grad()
    def update(self, live: nn.Module) -> None:
        if not self.decay:
            return
        self.updates += 1
        if self.network is None:     # the first step: the average starts at the live weights
            self.start(live)
            return
        decay = self.current_decay()
        for average, weights in zip(self.network.parameters(), live.parameters()):
            average.lerp_(weights, 1.0 - decay)
        for kept, buffer in zip(self.network.buffers(), live.buffers()):
            kept.copy_(buffer)


# Images ----------------------------------------------------------------------------------------

def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] floats -> uint8 (N, C, H, W) on the CPU."""
    return ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()


def to_gan_range(images: torch.Tensor, size: int) -> torch.Tensor:
    """[0, 1] images -> [-1, 1] at ``size`` px (the tutorial's Resize + Normalize(0.5, 0.5))."""
    if images.shape[-1] != size:
        images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    return images * 2 - 1


def _pairwise_distances(images: torch.Tensor) -> torch.Tensor:
    """(B, B) distances between images, each standardised first (zero mean, unit variance), so
    they track how different the shapes are, not how much contrast early samples have."""
    flat = images.flatten(1).float()
    flat = (flat - flat.mean(1, keepdim=True)) / flat.std(1, keepdim=True).clamp(min=1e-3)
    return torch.cdist(flat, flat)


def mean_pairwise_distance(images: torch.Tensor) -> torch.Tensor:
    """Mean distance between two different images of the batch."""
    count = len(images)
    return _pairwise_distances(images).sum() / max(count * (count - 1), 1)


def nearest_neighbour_distance(images: torch.Tensor) -> torch.Tensor:
    """Median distance from each image to its nearest other image. Near-duplicates, as many z
    drawing the same picture, make it tiny long before the batch's overall spread shrinks."""
    distances = _pairwise_distances(images)
    distances.fill_diagonal_(float("inf"))
    return distances.min(1).values.median()


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Spherical interpolation between noise vectors (stays on the Gaussian's shell)."""
    a_unit, b_unit = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    omega = torch.acos((a_unit * b_unit).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    if float(omega.abs().max()) < 1e-4:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


# The trainer -----------------------------------------------------------------------------------

class GANTrainer:
    """G and D with their Adam optimizers; ``train_step`` is one D step then one G step.

    Subclasses change what differs: the loss (``loss``, a key of ``LOSSES``), the prior
    (``noise``), the step (``train_step``), extra state (``state``/``load_state``) and what the
    finished model is measured by (``final_evaluation``, ``extra_metrics``). With
    ``generator_ema`` set, ``average`` follows G's weights and ``generate`` draws finished images
    with it.
    """

    loss = "bce"
    uses_labels = False      # class-conditional models read the data's labels in train_step
    average_rampup: float | None = None   # see WeightAverage; None: the plain decay from step 1

    def __init__(self, spec, config, image_shape, device: torch.device):
        self.config, self.device, self.image_shape = config, device, tuple(image_shape)
        generator, discriminator = spec.build_network(config, self.image_shape)
        self.generator, self.discriminator = generator.to(device), discriminator.to(device)
        self.average = WeightAverage(config.generator_ema, self.average_rampup)
        self.discriminator_reset = False
        self._optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer] | None = None

    # The optimizers are made on first use: a model restored only to draw (a page's Load
    # pretrained) never needs them, and torch's first optimizer imports torch._dynamo (2-4 s of a
    # page's first load on a 2-core machine).
    @property
    def optimizer_g(self) -> torch.optim.Optimizer:
        return self._made_optimizers()[0]

    @property
    def optimizer_d(self) -> torch.optim.Optimizer:
        return self._made_optimizers()[1]

    def _made_optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        if self._optimizers is None:
            self._optimizers = self.make_optimizers()
        return self._optimizers

    def make_optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        """(G's, D's) Adam optimizers."""
        config = self.config
        return (make_adam(self.generator.parameters(), config.learning_rate_g, config.beta1),
                make_adam(self.discriminator.parameters(), config.learning_rate_d, config.beta1))

    @property
    def generator_average(self) -> nn.Module | None:
        return self.average.network

    def parameters(self):
        return list(self.generator.parameters()) + list(self.discriminator.parameters())

    def set_progress(self, progress: float) -> float:
        factor = lr_factor(self.config.lr_schedule, progress)
        set_learning_rates([(self.optimizer_d, self.config.learning_rate_d),
                            (self.optimizer_g, self.config.learning_rate_g)], factor)
        return self.config.learning_rate_g * factor

    def noise(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draws from the model's prior: everything G reads (here z ~ N(0, I))."""
        return torch.randn(count, self.config.latent_dim, generator=generator).to(self.device)

    def train_step(self, real: torch.Tensor, labels: torch.Tensor | None = None
                   ) -> dict[str, torch.Tensor]:
        """One D step and one G step on a batch of real images in [-1, 1]; metrics as tensors."""
        self.generator.train(), self.discriminator.train()
        loss = LOSSES[self.loss]

        # Update D: maximise log D(x) + log(1 - D(G(z))).
        fake = self.generator(self.noise(len(real)))
        logits_real = self.discriminator(real)
        logits_fake = self.discriminator(fake.detach())
        loss_d = loss.discriminator(logits_real, logits_fake, 1.0 - self.config.label_smoothing)
        self.optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        grad_norm_d = gradient_norm(self.discriminator)
        self.optimizer_d.step()

        # Update G: maximise log D(G(z)) (the non-saturating loss).
        logits_after = self.discriminator(fake)
        loss_g = loss.generator(logits_after)
        self.optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        grad_norm_g = gradient_norm(self.generator)
        self.optimizer_g.step()

        with torch.no_grad():
            return {"loss/discriminator": loss_d.detach(), "loss/generator": loss_g.detach(),
                    **discriminator_metrics(logits_real, logits_fake, logits_after.detach()),
                    "grad_norm/discriminator": grad_norm_d, "grad_norm/generator": grad_norm_g}

    def update_average(self) -> None:
        """One step of the weight average (a no-op when ``generator_ema`` is 0)."""
        self.average.update(self.generator)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, batch_statistics: bool = False,
                 averaged: bool = True) -> torch.Tensor:
        """Images in [-1, 1] for the latents ``z``, from the weight average when there is one (and
        ``averaged``), else from G itself.

        While training, batch norm uses the batch's statistics (as the tutorial samples its fixed
        noise); a finished model uses its running statistics, so an image depends on its z only.
        """
        average = self.average.network
        generator = average if averaged and average is not None else self.generator
        generator.train(batch_statistics)
        return generator(z.to(self.device))

    def discriminator_scores(self, images: torch.Tensor, latent: torch.Tensor | None = None,
                             labels: torch.Tensor | None = None) -> torch.Tensor:
        """D's score of each image (B,), higher meaning "real", in D's current mode: its logit
        for the BCE loss (D(x) = sigmoid), its raw output for hinge and least squares, the mean
        of a patch map, minus the reconstruction error for an autoencoder D (its output is an
        image). For the Inside views and the score histograms a run records. ``latent`` (of
        generated images) or ``labels`` (of real ones) are for a D that reads the class: such a
        model overrides this; a plain D reads neither."""
        output = self.discriminator(images)
        if output.shape == images.shape:
            return -(output - images).abs().flatten(1).mean(1)
        return output.reshape(len(images), -1).mean(1)

    def state(self) -> dict:
        networks = {"generator": self.generator.state_dict(),
                    "discriminator": self.discriminator.state_dict()}
        if self.average.network is not None:
            networks["generator_average"] = self.average.network.state_dict()
        return {"state_dict": networks, "image_shape": list(self.image_shape),
                "optimizer": {"generator": self.optimizer_g.state_dict(),
                              "discriminator": self.optimizer_d.state_dict()}}

    def load_state(self, payload: dict, with_optimizer: bool = True) -> None:
        """Load G and D. A D of another shape (spectral norm switched on or off by a remedy)
        starts fresh instead: ``discriminator_reset`` tells."""
        networks = payload["state_dict"]
        self.generator.load_state_dict(networks["generator"])
        self.average = WeightAverage(self.config.generator_ema, self.average_rampup,
                                     updates=int(payload.get("step", 0)))
        if self.config.generator_ema:   # at G's weights, or where the run left it
            self.average.start(self.generator, networks.get("generator_average"))
        try:
            self.discriminator.load_state_dict(networks["discriminator"])
            self.discriminator_reset = False
        except RuntimeError:
            self.discriminator_reset = True
        if with_optimizer and payload.get("optimizer"):
            try:
                self.optimizer_g.load_state_dict(payload["optimizer"]["generator"])
                if not self.discriminator_reset:
                    self.optimizer_d.load_state_dict(payload["optimizer"]["discriminator"])
            except (ValueError, KeyError):
                pass  # another optimizer layout: keep the fresh optimizer state

    def final_evaluation(self, judge) -> dict:
        """What the finished model is measured by besides its samples, stored in the checkpoint so
        a page shows it at once (infoGAN: what each code learned). ``judge`` may be None."""
        return {}

    def extra_metrics(self, judge) -> dict[str, float]:
        """Name=value figures the CLI's ``evaluate`` and the benches print beside the sample
        quality (infoGAN: each code's purity and correlation)."""
        return {}

    def reference_metrics(self, judge, data, count: int = 10_000) -> dict[str, float]:
        """Like ``extra_metrics``, for figures that also need the real images ``data`` (a
        class-conditional GAN: intended-class accuracy, diversity within a class relative to the
        real images of that class), on ``count`` samples. ``judge`` may be None."""
        return {}

    def monitor_statistics(self, latent: torch.Tensor, images: torch.Tensor, judge
                           ) -> dict[str, float]:
        """A model's own figures on the monitor's periodic class check, from the latents, the
        images G drew from them and the shipped CNN (a class-conditional GAN: how often the CNN
        sees the class G was asked for)."""
        return {}

