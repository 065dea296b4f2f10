"""GANs: what D sees (through ``generate``/``noise``/``discriminator_scores``): its score
histograms on real and generated images, recorded during training and measured on the finished
model, and the gradient of its score with respect to a generated image. A look never changes
what training does next (``untouched``)."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.inside.looking import network_lock, one_thread
from core.models.gans.base import to_gan_range

HISTOGRAM_BINS = 16        # bins of D's recorded score histograms
HISTOGRAM_PREFIX = "d_histogram/"


@contextlib.contextmanager
def untouched(*networks: nn.Module):
    """Run networks in training mode (batch statistics, as the D step reads) and leave them as
    they were: batch-norm running statistics, spectral norm's power-iteration vectors and the
    train/eval modes are put back, so a look never changes what training does next."""
    buffers = [[buffer.detach().clone() for buffer in network.buffers()] for network in networks]
    modes = [[module.training for module in network.modules()] for network in networks]
    try:
        yield
    finally:
        with torch.no_grad():
            for network, kept in zip(networks, buffers):
                for buffer, value in zip(network.buffers(), kept):
                    buffer.copy_(value)
        for network, flags in zip(networks, modes):
            for module, mode in zip(network.modules(), flags):
                module.training = mode


def histogram_metrics(real_scores: torch.Tensor, fake_scores: torch.Tensor,
                      bins: int = HISTOGRAM_BINS) -> dict[str, float]:
    """D's scores on real and generated images as shares in ``bins`` equal bins between the 1st
    and 99th percentile of all of them (the tails go to the end bins): the ``d_histogram/...``
    metrics a GAN run records now and then."""
    real_scores = real_scores.detach().float().cpu()
    fake_scores = fake_scores.detach().float().cpu()
    scores = torch.cat([real_scores, fake_scores])
    low, high = float(torch.quantile(scores, 0.01)), float(torch.quantile(scores, 0.99))
    if not high - low > 1e-6:
        low, high = low - 0.5, high + 0.5
    values = {f"{HISTOGRAM_PREFIX}low": low, f"{HISTOGRAM_PREFIX}high": high}
    for side, side_scores in (("real", real_scores), ("fake", fake_scores)):
        counts = torch.histc(side_scores.clamp(low, high), bins=bins, min=low, max=high)
        shares = counts / max(len(side_scores), 1)
        values.update({f"{HISTOGRAM_PREFIX}{side}/{index:02d}": float(share)
                       for index, share in enumerate(shares)})
    return values


def discriminator_histogram(trainer, real: torch.Tensor, latent: torch.Tensor,
                            labels: torch.Tensor | None = None,
                            bins: int = HISTOGRAM_BINS) -> dict[str, float]:
    """D's scores on ``real`` images (in [-1, 1]) and on the images G draws from ``latent``, as
    the training step sees them (G itself, batch statistics), as ``histogram_metrics``. Changes
    nothing in the networks (``untouched``)."""
    with torch.no_grad(), untouched(trainer.generator, trainer.discriminator):
        fake = trainer.generate(latent, batch_statistics=True, averaged=False)
        trainer.discriminator.train()
        real_scores = trainer.discriminator_scores(real, labels=labels)
        fake_scores = trainer.discriminator_scores(fake, latent=latent)
    return histogram_metrics(real_scores, fake_scores, bins)


@dataclass
class ScoreHistogram:
    """D's scores at one step: shares of real and of generated images per bin."""
    step: int
    edges: np.ndarray     # (bins + 1,)
    real: np.ndarray      # (bins,) shares, sum 1
    fake: np.ndarray      # (bins,)

    def quantile(self, side: str, q: float) -> float:
        """The score below which a share ``q`` of that side's images lie (linear within a bin)."""
        shares = self.real if side == "real" else self.fake
        cumulative = np.concatenate([[0.0], np.cumsum(shares)])
        return float(np.interp(q * cumulative[-1], cumulative, self.edges))


def recorded_histograms(frame: pd.DataFrame) -> list[ScoreHistogram]:
    """The histograms a run recorded (``d_histogram/...`` metrics), by step; [] when it has none
    (a run trained before they were recorded)."""
    if frame.empty:
        return []
    rows = frame[frame["name"].str.startswith(HISTOGRAM_PREFIX)]
    if rows.empty:
        return []
    table = rows.pivot_table(index="step", columns="name", values="value", aggfunc="last")
    low, high = f"{HISTOGRAM_PREFIX}low", f"{HISTOGRAM_PREFIX}high"
    real = sorted(name for name in table.columns if name.startswith(f"{HISTOGRAM_PREFIX}real/"))
    fake = sorted(name for name in table.columns if name.startswith(f"{HISTOGRAM_PREFIX}fake/"))
    if low not in table or high not in table or not real or len(real) != len(fake):
        return []
    table = table.dropna(subset=[low, high, *real, *fake])
    found = []
    for step, row in table.iterrows():
        edges = np.linspace(row[low], row[high], len(real) + 1)
        found.append(ScoreHistogram(int(step), edges, row[real].to_numpy(float),
                                    row[fake].to_numpy(float)))
    return found


def reconstructs(trainer) -> bool:
    """Whether D is an autoencoder (its output is an image, its score an energy)."""
    probe = torch.zeros(2, *trainer.image_shape, device=trainer.device)
    with network_lock, torch.no_grad(), one_thread(), untouched(trainer.discriminator):
        trainer.discriminator.eval()
        return trainer.discriminator(probe).shape == probe.shape


def decision_boundary(trainer) -> float | None:
    """The score where D switches from "generated" to "real" for the trainer's loss (a logit of
    0 is D(x) = 0.5); None when D is an autoencoder (its score is minus an energy)."""
    if reconstructs(trainer):
        return None
    return {"bce": 0.0, "hinge": 0.0, "least_squares": 0.5}.get(trainer.loss)


def real_for(trainer, images: torch.Tensor) -> torch.Tensor:
    """uint8 images -> [-1, 1] at the model's size, on its device."""
    return to_gan_range(images.float() / 255, trainer.image_shape[-1]).to(trainer.device)


def scores_now(trainer, real_images: torch.Tensor, count: int = 512,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The finished model: D's scores (as its training step reads them) on ``count`` real images
    (uint8) and on ``count`` images the finished G draws."""
    real = real_for(trainer, real_images[:count])
    latent = trainer.noise(len(real), torch.Generator().manual_seed(seed))
    with network_lock, torch.no_grad(), one_thread(), \
            untouched(trainer.generator, trainer.discriminator):
        fake = trainer.generate(latent)
        trainer.discriminator.train()
        real_scores = trainer.discriminator_scores(real)
        fake_scores = trainer.discriminator_scores(fake, latent=latent)
    return real_scores.float().cpu().numpy(), fake_scores.float().cpu().numpy()


SCORE_IMAGES = 512      # real and generated images in the finished model's D histogram


def scores_figure(trainer, judge, data) -> dict | None:
    """The Inside panel's D histogram of a finished model (a page figure: stored in a shipped
    checkpoint, ``core/figures.py``): D's scores of ``SCORE_IMAGES`` training images and as many
    the finished G draws, and D's boundary between "real" and "generated" (None: none)."""
    if data is None or data.image_shape[0] != trainer.image_shape[0]:
        return None
    real, fake = scores_now(trainer, data.train_images, count=SCORE_IMAGES)
    return {"real": real.tolist(), "fake": fake.tolist(), "boundary": decision_boundary(trainer)}


@dataclass
class Push:
    """What D's gradient asks of one generated image."""
    image: np.ndarray      # (C, H, W) in [-1, 1]
    gradient: np.ndarray   # (C, H, W): d score / d pixel
    score: float           # D's score of the image
    nudged: np.ndarray     # the image moved a step up the gradient
    nudged_score: float


def discriminator_push(trainer, latent: torch.Tensor, step: float = 0.02,
                       steps: int = 10) -> Push:
    """The gradient of D's score with respect to the image G draws from ``latent`` (one): where
    a change would make D call it more real, which is where G's loss pushes G (for the BCE loss
    dL_G/dx = -(1 - D(x)) dlogit/dx, the same direction). D reads the image alone (eval mode).
    ``nudged`` climbs ``steps`` steps of the gradient, each moving the most-pushed pixel by
    ``step`` (images span [-1, 1]): what D would like to see more of."""
    latent = latent[:1]

    def score_and_gradient(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pixels = image.clone().requires_grad_(True)
        with torch.enable_grad():
            score = trainer.discriminator_scores(pixels, latent=latent).sum()
            gradient, = torch.autograd.grad(score, pixels)
        return score.detach(), gradient

    with network_lock, one_thread(), untouched(trainer.discriminator):
        image = trainer.generate(latent).detach()
        trainer.discriminator.eval()
        score, first = score_and_gradient(image)
        nudged, nudged_score, gradient = image, score, first
        for _ in range(steps):
            nudged = (nudged + step * gradient / gradient.abs().max().clamp(min=1e-12)).clamp(-1, 1)
            nudged_score, gradient = score_and_gradient(nudged)
    return Push(image[0].float().cpu().numpy(), first[0].float().cpu().numpy(), float(score),
                nudged[0].float().cpu().numpy(), float(nudged_score))
