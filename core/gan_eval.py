"""Judging generated Fashion-MNIST images with the shipped CNN (no hub, no Inception weights).

Class coverage: the CNN labels generated images; a class counts when it gets >= 5% of them.
Fréchet distance (Heusel et al. 2017, https://arxiv.org/abs/1706.08500) between Gaussians fitted
to the CNN's penultimate features of generated and real images: FID's formula in a Fashion-MNIST
classifier's feature space, so it is comparable between our models, not with published FIDs.
"""
from __future__ import annotations

import functools
import math
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

CLASSIFIER = Path(__file__).resolve().parents[1] / "checkpoints" / "cnn.pt"
COVERAGE_SHARE = 0.05


class Judge:
    """The shipped CNN in eval mode, returning logits and penultimate features."""

    def __init__(self, payload: dict, device: torch.device):
        from core.config import from_dict
        from core.registry import MODELS
        spec = MODELS[payload["model"]]
        config = from_dict(spec.config_cls, payload["config"], strict=False)
        self.network = spec.build_network(config).to(device).eval()
        self.network.load_state_dict(payload["state_dict"]["network"])  # casts float16 back
        self.device = device
        last_linear = [m for m in self.network.modules() if isinstance(m, nn.Linear)][-1]
        self._features: list[torch.Tensor] = []
        last_linear.register_forward_hook(lambda module, inputs, output:
                                          self._features.append(inputs[0]))

    @torch.no_grad()
    def logits_and_features(self, images: torch.Tensor, batch_size: int = 500):
        """``images`` in [-1, 1], any size: resized to 28 px and mapped to [0, 1] as in training."""
        logits, features = [], []
        for start in range(0, len(images), batch_size):
            batch = images[start:start + batch_size].to(self.device).float()
            if batch.shape[-1] != 28:
                batch = F.interpolate(batch, size=(28, 28), mode="bilinear", antialias=True,
                                      align_corners=False)
            self._features.clear()
            logits.append(self.network((batch + 1) / 2))
            features.append(self._features[0])
        return torch.cat(logits), torch.cat(features)

    def class_histogram(self, images: torch.Tensor) -> torch.Tensor:
        logits, _ = self.logits_and_features(images)
        return torch.bincount(logits.argmax(1), minlength=logits.shape[1]).float() / len(images)

    def class_statistics(self, images: torch.Tensor) -> dict[str, float]:
        """Classes covered (>= 5% of images), normalised class entropy, largest share, and the
        share of images the CNN labels with confidence >= 0.5 (low for blurry early samples)."""
        logits, _ = self.logits_and_features(images)
        probabilities = logits.softmax(1)
        share = torch.bincount(logits.argmax(1), minlength=logits.shape[1]).float() / len(images)
        entropy = -(share[share > 0] * share[share > 0].log()).sum() / math.log(len(share))
        return {"classes/covered": float((share >= COVERAGE_SHARE).sum()),
                "classes/entropy": float(entropy), "classes/top_share": float(share.max()),
                "classes/confident": float((probabilities.max(1).values >= 0.5).float().mean())}


@functools.lru_cache(maxsize=2)
def _load_judge(path: str, mtime: float, device: str) -> Judge:
    from core import checkpoints
    return Judge(checkpoints.load(path), torch.device(device))


def judge_for(data, device: torch.device | None = None) -> Judge | None:
    """The shipped CNN when the data are Fashion-MNIST (by class names) and the checkpoint exists."""
    from core.data.fashion_mnist import CLASS_NAMES
    if data.image_shape != (1, 28, 28) or tuple(data.class_names) != CLASS_NAMES \
            or not CLASSIFIER.exists():
        return None
    device = device or torch.device("cpu")
    return _load_judge(str(CLASSIFIER), CLASSIFIER.stat().st_mtime, str(device))


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


@torch.no_grad()
def evaluate_generator(trainer, data, count: int = 10_000, seed: int = 0) -> dict[str, float]:
    """Classes covered, class entropy and Fréchet distance to the test images, for ``count`` samples."""
    judge = judge_for(data)
    if judge is None:
        raise ValueError("needs Fashion-MNIST-like data and checkpoints/cnn.pt")
    generator = torch.Generator().manual_seed(seed)
    images = torch.cat([trainer.generate(trainer.noise(min(1000, count - start), generator)).cpu()
                        for start in range(0, count, 1000)])
    _, fake_features = judge.logits_and_features(images)
    real = data.test_images[:count].float() / 127.5 - 1
    _, real_features = judge.logits_and_features(real)
    values = {f"quality/{key.split('/')[1]}": value
              for key, value in judge.class_statistics(images).items()}
    values["quality/frechet_distance"] = frechet_distance(fake_features, real_features)
    return values
