"""Judging generated Fashion-MNIST images with the shipped CNN (no hub, no Inception weights).

Class coverage: the CNN labels generated images; a class counts when it gets >= 5% of them.
Fréchet distance (Heusel et al. 2017, https://arxiv.org/abs/1706.08500) between Gaussians fitted
to the CNN's penultimate features of generated and real images: FID's formula in a Fashion-MNIST
classifier's feature space, so it is comparable between our models, not with published FIDs.
"""
from __future__ import annotations

import functools
import math
import threading

import torch
from torch import nn
from torch.nn import functional as F

from core import checkpoints
from core.config import from_dict
from core.data.fashion_mnist import CLASS_NAMES
from core.i18n import N_, _
from core.models import cnn
from core.paths import shipped_checkpoint

CLASSIFIER = shipped_checkpoint(cnn.SPEC.name)   # the judge: the shipped CNN
COVERAGE_SHARE = 0.05

# What the figures measure, for the caption beside a chart or table that shows them (marked
# here, shown through _()).
FRECHET_SCOPE = N_("Fréchet distance: FID's formula in the shipped Fashion-MNIST CNN's features, "
                   "not Inception's — comparable between the models here, not with a paper's FID")
INTENDED_SCOPE = N_("intended-class accuracy: the share of samples the shipped CNN reads as the "
                    "class G was asked for — how recognisable a sample is as its class, not how "
                    "faithful it is to real images")


def sample_size_note(per_class: int, reference_per_class: int) -> str:
    """Why a figure measured on fewer samples differs from the README's: a Fréchet distance from
    n samples is biased upwards, the more the smaller n."""
    return _("measured on {count:,} samples per class where the README's figures use "
             "{reference:,}: a Fréchet distance from fewer samples is biased upwards, so these "
             "read higher than the README's").format(count=per_class,
                                                     reference=reference_per_class)


class Judge:
    """The shipped CNN in eval mode, returning logits and penultimate features."""

    def __init__(self, payload: dict, device: torch.device):
        config = from_dict(cnn.CNNConfig, payload["config"], strict=False)
        self.network = cnn.ConvNet(config).to(device).eval()
        self.network.load_state_dict(payload["state_dict"]["network"])  # casts float16 back
        self.device = device
        last_linear = [m for m in self.network.modules() if isinstance(m, nn.Linear)][-1]
        # One judge serves every session of the server: the hook's list is per thread, so two
        # sessions scoring at once never read each other's features.
        self._local = threading.local()
        last_linear.register_forward_hook(lambda module, inputs, output:
                                          self._local.features.append(inputs[0]))

    @torch.no_grad()
    def logits_and_features(self, images: torch.Tensor, batch_size: int = 500):
        """``images`` in [-1, 1], any size: resized to 28 px and mapped to [0, 1] as in training."""
        logits, features = [], []
        for start in range(0, len(images), batch_size):
            batch = images[start:start + batch_size].to(self.device).float()
            if batch.shape[-1] != 28:
                batch = F.interpolate(batch, size=(28, 28), mode="bilinear", antialias=True,
                                      align_corners=False)
            self._local.features = []
            logits.append(self.network((batch + 1) / 2))
            features.append(self._local.features[0])
        return torch.cat(logits), torch.cat(features)

    def class_histogram(self, images: torch.Tensor) -> torch.Tensor:
        logits, _features = self.logits_and_features(images)
        return torch.bincount(logits.argmax(1), minlength=logits.shape[1]).float() / len(images)

    def class_statistics(self, images: torch.Tensor) -> dict[str, float]:
        """Classes covered (>= 5% of images), normalised class entropy, largest share, and the
        share of images the CNN labels with confidence >= 0.5 (low for blurry early samples)."""
        return self.statistics_of(self.logits_and_features(images)[0])

    @staticmethod
    def statistics_of(logits: torch.Tensor) -> dict[str, float]:
        """``class_statistics`` from logits already computed."""
        probabilities = logits.softmax(1)
        share = torch.bincount(logits.argmax(1), minlength=logits.shape[1]).float() / len(logits)
        entropy = -(share[share > 0] * share[share > 0].log()).sum() / math.log(len(share))
        return {"classes/covered": float((share >= COVERAGE_SHARE).sum()),
                "classes/entropy": float(entropy), "classes/top_share": float(share.max()),
                "classes/confident": float((probabilities.max(1).values >= 0.5).float().mean())}


@functools.lru_cache(maxsize=2)
def _load_judge(path: str, mtime: float, device: str) -> Judge:
    # Building the CNN draws its initial weights from torch's random stream: a forked stream
    # keeps the caller's untouched (a GAN run seeded just before reproduces whether or not the
    # judge was loaded already in this process).
    with torch.random.fork_rng(devices=[]):
        return Judge(checkpoints.load(path, expected_model=cnn.SPEC.name), torch.device(device))


def shipped_judge(device: torch.device | None = None) -> Judge | None:
    """The shipped CNN, or None when checkpoints/cnn.pt is missing."""
    if not CLASSIFIER.exists():
        return None
    return _load_judge(str(CLASSIFIER), CLASSIFIER.stat().st_mtime,
                       str(device or torch.device("cpu")))


def judge_for(data, device: torch.device | None = None) -> Judge | None:
    """The shipped CNN when the data are Fashion-MNIST (by class names) and the checkpoint exists."""
    if data.image_shape != (1, 28, 28) or tuple(data.class_names) != CLASS_NAMES:
        return None
    return shipped_judge(device)


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2), in float64."""
    a, b = features_a.double(), features_b.double()
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)

    def sqrt_psd(matrix: torch.Tensor) -> torch.Tensor:
        values, vectors = torch.linalg.eigh(matrix)
        return (vectors * values.clamp(min=0).sqrt()) @ vectors.T

    root_a = sqrt_psd(cov_a)
    cross = sqrt_psd(root_a @ cov_b @ root_a)
    return float((mean_a - mean_b).pow(2).sum() + torch.trace(cov_a + cov_b - 2 * cross))


# The Fréchet distance compares every model at one size: samples and real images are both brought
# to 32 px (the DCGAN's and BEGAN's size) before the judge reads them at 28 px. Measured: training
# images against test images score 0.8 at 28 px, but 61.8 when only the training images make the
# 28 -> 32 -> 28 trip that a 32 px model's samples make, so comparing 32 px samples with 28 px
# test images would charge a perfect 32 px model ~62 for the resize alone.
FRECHET_SIZE = 32


def at_frechet_size(images: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] resized to ``FRECHET_SIZE`` px (bilinear, antialiased when shrinking)."""
    if images.shape[-1] == FRECHET_SIZE:
        return images
    return F.interpolate(images.float(), size=(FRECHET_SIZE, FRECHET_SIZE), mode="bilinear",
                         antialias=images.shape[-1] > FRECHET_SIZE, align_corners=False)


def reference_features(judge: Judge, images: torch.Tensor) -> torch.Tensor:
    """The judge's penultimate features of real uint8 images at ``FRECHET_SIZE``, for the
    Fréchet distance."""
    return judge.logits_and_features(at_frechet_size(images.float() / 127.5 - 1))[1]


@torch.no_grad()
def evaluate_generator(trainer, data, count: int = 10_000, seed: int = 0,
                       real_features: torch.Tensor | None = None) -> dict[str, float]:
    """Classes covered and class entropy of ``count`` samples (read at their own size), and their
    Fréchet distance (at ``FRECHET_SIZE``) to the first ``count`` test images, or to
    ``real_features`` (``reference_features`` of other images, e.g. training images to pick a
    checkpoint by without looking at the test set)."""
    judge = judge_for(data, trainer.device)
    if judge is None:
        raise ValueError(_("needs Fashion-MNIST-like data and checkpoints/cnn.pt"))
    generator = torch.Generator().manual_seed(seed)
    images = torch.cat([trainer.generate(trainer.noise(min(1000, count - start), generator)).cpu()
                        for start in range(0, count, 1000)])
    fake_logits, fake_features = judge.logits_and_features(images)
    if images.shape[-1] != FRECHET_SIZE:
        fake_features = judge.logits_and_features(at_frechet_size(images))[1]
    if real_features is None:
        real_features = reference_features(judge, data.test_images[:count])
    values = {f"quality/{key.split('/')[1]}": value
              for key, value in judge.statistics_of(fake_logits).items()}
    values["quality/frechet_distance"] = frechet_distance(fake_features, real_features)
    return values
