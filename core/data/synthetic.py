"""Tiny generated image data for tests and smoke runs: each class is a distinct pattern plus noise."""
from __future__ import annotations

import torch

from core.data.fashion_mnist import CLASS_NAMES, ImageDataset


def make(train_count: int = 200, test_count: int = 100, size: int = 28, classes: int = 10,
         seed: int = 0) -> ImageDataset:
    generator = torch.Generator().manual_seed(seed)
    prototypes = torch.rand(classes, 1, size, size, generator=generator) * 255

    def draw(count: int):
        labels = torch.arange(count) % classes
        noise = torch.randn(count, 1, size, size, generator=generator) * 40
        images = (prototypes[labels] + noise).clamp(0, 255).to(torch.uint8)  # (N, 1, H, W)
        return images, labels

    train_images, train_labels = draw(train_count)
    test_images, test_labels = draw(test_count)
    return ImageDataset(train_images, train_labels, test_images, test_labels,
                        CLASS_NAMES[:classes], "synthetic")
