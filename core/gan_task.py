"""GAN training: the shared config, one D step + one G step, and the task the training loop drives.

Loss convention: ``loss/discriminator`` is the seed's DCGAN errD = BCE(D(x), 1) + BCE(D(G(z)), 0)
(a sum, so its healthy band 0.5-0.8 matches D being right ~80% of the time); ``loss/generator``
is the non-saturating BCE(D(G(z)), 1). D outputs logits; D(x) = sigmoid(logit).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from core.config import BaseConfig, param
from core.classification import lr_factor

SAMPLE_GRID = 64            # the fixed-noise grid: 8 x 8 images
DIVERSITY_BATCH = 64        # generated and real images compared for the diversity ratio
CLASS_SAMPLES = 256         # generated images classified by the shipped CNN per check


def generator_average_param():
    """The ``generator_ema`` setting, shared by every GAN config."""
    return param(0.0, "keep an exponential moving average of G's weights with this decay and draw "
                 "the finished model's images with it (as StyleGAN's G_ema; 0.999 averages over "
                 "about the last 1,000 steps). It smooths the pixel speckle a single step leaves. "
                 "0 = off, as in the tutorial", choices=(0.0, 0.99, 0.999, 0.9995, 0.9999),
                 label="G weight average (EMA decay)", zero_means="off")


@dataclass
class AdversarialConfig(BaseConfig):
    """Settings every GAN shares (the seed's defaults: Adam 2e-4, beta1 0.5, batch 64, nz 100)."""
    learning_rate_d: float = param(2e-4, "discriminator learning rate (TTUR uses 4e-4)", low=1e-6,
                                   high=1.0, log=True, label="learning rate D")
    learning_rate_g: float = param(2e-4, "generator learning rate (TTUR uses 1e-4)", low=1e-6,
                                   high=1.0, log=True, label="learning rate G")
    batch_size: int = param(64, "real images per step (the seed's batch_size)", low=2, high=1024,
                            label="batch size")
    epochs: int = param(2, "passes over the training set", low=1, high=200)
    latent_dim: int = param(100, "length of the noise vector z (the seed's nz); 1 provokes mode "
                            "collapse", low=1, high=200, label="nz (latent size)")
    beta1: float = param(0.5, "Adam's beta1 (the seed's b1 / beta1)", low=0.0, high=0.999,
                         label="Adam beta1")
    label_smoothing: bool = param(False, "one-sided label smoothing: real images labelled 0.9",
                                  label="label smoothing (real = 0.9)")
    spectral_norm: bool = param(False, "spectral normalisation on D's layers (Miyato et al. 2018)",
                                label="spectral norm on D")
    sample_every_steps: int = param(100, "refresh the fixed-noise sample grid every N steps",
                                    low=1, high=100000, advanced=True)
    monitor_every_windows: int = param(5, "classify generated images with the shipped CNN every "
                                       "N metric windows (0 = never)", low=0, high=1000,
                                       advanced=True)
    generator_ema: float = generator_average_param()


def maybe_spectral_norm(layer: nn.Module, enabled: bool) -> nn.Module:
    return nn.utils.parametrizations.spectral_norm(layer) if enabled else layer


def make_adam(parameters, lr: float, beta1: float) -> torch.optim.Optimizer:
    try:
        return torch.optim.Adam(parameters, lr=lr, betas=(beta1, 0.999), fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(parameters, lr=lr, betas=(beta1, 0.999))


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] floats -> uint8 (N, C, H, W) on the CPU."""
    return ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()


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


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation between noise vectors (stays on the Gaussian's shell)."""
    a_unit, b_unit = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    omega = torch.acos((a_unit * b_unit).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    if float(omega.abs().max()) < 1e-4:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


class GANTrainer:
    """G and D with their Adam optimizers; ``train_step`` is one D step then one G step.

    With ``generator_ema`` set, ``generator_average`` follows G's weights as an exponential moving
    average (``update_average`` after each step) and ``generate`` draws finished images with it.
    """

    generator_average: nn.Module | None = None

    def __init__(self, spec, config: AdversarialConfig, image_shape, device: torch.device):
        self.config, self.device = config, device
        generator, discriminator = spec.build_network(config, image_shape)
        self.generator, self.discriminator = generator.to(device), discriminator.to(device)
        self.optimizer_g = make_adam(self.generator.parameters(), config.learning_rate_g, config.beta1)
        self.optimizer_d = make_adam(self.discriminator.parameters(), config.learning_rate_d,
                                     config.beta1)
        self.real_label = 0.9 if config.label_smoothing else 1.0

    def parameters(self):
        return list(self.generator.parameters()) + list(self.discriminator.parameters())

    def set_progress(self, progress: float) -> float:
        factor = lr_factor(self.config.lr_schedule, progress)
        for optimizer, base in ((self.optimizer_d, self.config.learning_rate_d),
                                (self.optimizer_g, self.config.learning_rate_g)):
            for group in optimizer.param_groups:
                group["lr"] = base * factor
        return self.config.learning_rate_g * factor

    def noise(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(count, self.config.latent_dim, generator=generator).to(self.device)

    def train_step(self, real: torch.Tensor) -> dict[str, torch.Tensor]:
        """One D step and one G step on a batch of real images in [-1, 1]; metrics as tensors."""
        self.generator.train(), self.discriminator.train()
        batch = len(real)
        ones = torch.full((batch,), self.real_label, device=self.device)
        zeros = torch.zeros(batch, device=self.device)

        # Update D: maximise log D(x) + log(1 - D(G(z))).
        fake = self.generator(self.noise(batch))
        logits_real = self.discriminator(real)
        logits_fake = self.discriminator(fake.detach())
        loss_d = (F.binary_cross_entropy_with_logits(logits_real, ones)
                  + F.binary_cross_entropy_with_logits(logits_fake, zeros))
        self.optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        grad_norm_d = nn.utils.clip_grad_norm_(self.discriminator.parameters(), math.inf)
        self.optimizer_d.step()

        # Update G: maximise log D(G(z)) (the non-saturating loss).
        logits_after = self.discriminator(fake)
        loss_g = F.binary_cross_entropy_with_logits(logits_after, torch.ones_like(zeros))
        self.optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        grad_norm_g = nn.utils.clip_grad_norm_(self.generator.parameters(), math.inf)
        self.optimizer_g.step()

        with torch.no_grad():
            return {
                "loss/discriminator": loss_d.detach(), "loss/generator": loss_g.detach(),
                "d/real": torch.sigmoid(logits_real).mean(),
                "d/fake_before_g": torch.sigmoid(logits_fake).mean(),
                "d/fake_after_g": torch.sigmoid(logits_after.detach()).mean(),
                "d_accuracy/real": (logits_real > 0).float().mean(),
                "d_accuracy/fake": (logits_fake < 0).float().mean(),
                "grad_norm/discriminator": grad_norm_d, "grad_norm/generator": grad_norm_g,
            }

    def _start_average(self) -> None:
        self.generator_average = copy.deepcopy(self.generator).requires_grad_(False)

    @torch.no_grad()
    def update_average(self) -> None:
        """One step of the weight average: avg = decay * avg + (1 - decay) * G. Batch-norm
        running statistics are copied from G, not averaged (they already are averages)."""
        decay = getattr(self.config, "generator_ema", 0.0)
        if not decay:
            return
        if self.generator_average is None:     # the first step: the average starts at G
            self._start_average()
            return
        for average, live in zip(self.generator_average.parameters(), self.generator.parameters()):
            average.lerp_(live, 1.0 - decay)
        for average, live in zip(self.generator_average.buffers(), self.generator.buffers()):
            average.copy_(live)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, batch_statistics: bool = False,
                 averaged: bool = True) -> torch.Tensor:
        """Images in [-1, 1] for noise ``z``, from the weight average when there is one (and
        ``averaged``), else from G itself.

        While training, batch norm uses the batch's statistics (as the seed samples its fixed
        noise); a finished model uses its running statistics, so an image depends on its z only.
        """
        # There is an average only when generator_ema is set (update_average / load_state).
        use_average = averaged and self.generator_average is not None
        generator = self.generator_average if use_average else self.generator
        generator.train(batch_statistics)
        return generator(z.to(self.device))

    def state(self) -> dict:
        networks = {"generator": self.generator.state_dict(),
                    "discriminator": self.discriminator.state_dict()}
        if self.generator_average is not None:
            networks["generator_average"] = self.generator_average.state_dict()
        return {"state_dict": networks,
                "optimizer": {"generator": self.optimizer_g.state_dict(),
                              "discriminator": self.optimizer_d.state_dict()}}

    def load_state(self, payload: dict, with_optimizer: bool = True) -> None:
        """Load G and D. A D of another shape (spectral norm switched on or off by a remedy)
        starts fresh instead: ``discriminator_reset`` tells."""
        self.generator.load_state_dict(payload["state_dict"]["generator"])
        self.generator_average = None
        if getattr(self.config, "generator_ema", 0.0):
            self._start_average()   # at G's weights, or where the run left it:
            if "generator_average" in payload["state_dict"]:
                self.generator_average.load_state_dict(payload["state_dict"]["generator_average"])
        try:
            self.discriminator.load_state_dict(payload["state_dict"]["discriminator"])
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


def make_trainer(spec, config, image_shape, device: torch.device) -> GANTrainer:
    """The spec's own trainer (infoGAN's codes, BEGAN's autoencoder D) or the plain GAN step."""
    return (spec.trainer or GANTrainer)(spec, config, image_shape, device)


def image_shape_for(config, data) -> tuple[int, int, int]:
    size = getattr(config, "image_size", data.image_shape[1])
    return (data.image_shape[0], size, size)


def to_gan_range(images: torch.Tensor, size: int) -> torch.Tensor:
    """[0, 1] images -> [-1, 1] at ``size`` px (the seed's Resize + Normalize(0.5, 0.5))."""
    if images.shape[-1] != size:
        images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    return images * 2 - 1


class GANTask:
    """What the training loop needs from a GAN: steps, window metrics, sample grids, final stats."""

    def __init__(self, spec, config: AdversarialConfig, data, device: torch.device):
        from core import gan_eval
        from core.training import prepare
        torch.manual_seed(config.seed)
        self.config = config
        self.image_shape = image_shape_for(config, data)
        self.trainer = make_trainer(spec, config, self.image_shape, device)
        self.train_x = prepare(data, device)[0]
        if config.train_subset:
            self.train_x = self.train_x[:config.train_subset]
        self.count = len(self.train_x)
        self.divergence_loss = math.inf   # BCE losses: only NaN/inf means divergence
        self.fixed_noise = self.trainer.noise(SAMPLE_GRID, torch.Generator().manual_seed(config.seed))
        self.monitor_generator = torch.Generator().manual_seed(config.seed + 7)
        self.final_judge = gan_eval.judge_for(data, device)  # None unless Fashion-MNIST-like
        self.judge = self.final_judge if config.monitor_every_windows else None
        real_sample = self.train_x[torch.randperm(self.count, generator=self.monitor_generator)
                                   [:DIVERSITY_BATCH]]
        self.real_diversity = float(mean_pairwise_distance(to_gan_range(real_sample,
                                                                         self.image_shape[-1])))
        real_sample = self.train_x[torch.randperm(self.count, generator=self.monitor_generator)
                                   [:CLASS_SAMPLES]]
        self.real_nearest = float(nearest_neighbour_distance(to_gan_range(real_sample,
                                                                          self.image_shape[-1])))
        self._window: list[dict] = []
        self._windows = 0

    def real_batch(self, index: torch.Tensor) -> torch.Tensor:
        return to_gan_range(self.train_x.index_select(0, index), self.image_shape[-1])

    def step(self, index: torch.Tensor) -> float:
        metrics = self.trainer.train_step(self.real_batch(index))
        self.trainer.update_average()
        self._window.append(metrics)
        return float(torch.maximum(metrics["loss/discriminator"], metrics["loss/generator"]))

    def health_statistics(self, count: int = CLASS_SAMPLES, with_classes: bool = True,
                          averaged: bool = False) -> dict:
        """Diversity of a generated batch relative to real images, and classes covered. The
        monitor reads G itself (what training does now); the final figures read the average."""
        z = self.trainer.noise(count, self.monitor_generator)
        images = self.trainer.generate(z, batch_statistics=True, averaged=averaged)
        values = {"diversity/ratio": float(mean_pairwise_distance(images[:DIVERSITY_BATCH]))
                  / max(self.real_diversity, 1e-8)}
        if with_classes:   # the full check, every few windows: near-duplicates and classes
            values["diversity/nearest"] = float(nearest_neighbour_distance(
                images[:CLASS_SAMPLES])) / max(self.real_nearest, 1e-8)
            if self.judge is not None:
                values.update(self.judge.class_statistics(images))
        return values

    def window_metrics(self) -> dict[str, float]:
        keys = self._window[0].keys()
        values = {key: float(torch.stack([m[key] for m in self._window]).mean()) for key in keys}
        if "d_accuracy/real" in values:  # BEGAN's D is an autoencoder: no accuracy
            values["d_accuracy/mean"] = (values["d_accuracy/real"] + values["d_accuracy/fake"]) / 2
        self._window.clear()
        self._windows += 1
        every = self.config.monitor_every_windows
        if every:
            values.update(self.health_statistics(with_classes=self._windows % every == 0))
        return values

    def extra_events(self, step: int, epoch_end: bool) -> list:
        from core.training import Samples
        if step % self.config.sample_every_steps == 0 or epoch_end:
            grid = self.trainer.generate(self.fixed_noise, batch_statistics=True, averaged=False)
            return [Samples(step, to_uint8(grid))]
        return []

    def epoch_end(self, step: int, epoch: int, is_last: bool) -> dict[str, float]:
        return {}

    def finish(self, step: int) -> tuple[dict[str, float], dict, bool]:
        values = self.health_statistics(count=1000, averaged=True)
        grid = self.trainer.generate(self.fixed_noise, batch_statistics=True)
        evaluation = {"samples": to_uint8(grid)}
        if hasattr(self.trainer, "final_evaluation"):   # e.g. what infoGAN's codes learned
            evaluation.update(self.trainer.final_evaluation(self.final_judge))
        return values, evaluation, True
