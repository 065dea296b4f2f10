"""Datasets held as whole tensors in memory; batches are index slices.

``load_images()`` gives Fashion-MNIST, or tiny generated data when DLSTUDIO_DATASET=synthetic
(the tests and smoke runs use that; it needs no files).
"""
from __future__ import annotations

import os

import torch

from core.data import fashion_mnist, synthetic
from core.i18n import _


def dataset_name() -> str:
    return os.environ.get("DLSTUDIO_DATASET", "fashion-mnist")


def load_images():
    if dataset_name() == "synthetic":
        return synthetic.make()
    return fashion_mnist.load()


def images_status() -> tuple[bool, str]:
    if dataset_name() == "synthetic":
        return True, _("synthetic test data (DLSTUDIO_DATASET=synthetic)")
    return fashion_mnist.status()


_prepared: dict[tuple, tuple] = {}


def prepare(data, device: torch.device) -> tuple[torch.Tensor, ...]:
    """Float [0, 1] tensors on the device (as ToTensor gives) and the labels, converted once per
    dataset: (train images, train labels, test images, test labels)."""
    key = (id(data), str(device))
    if key not in _prepared:
        to_float = lambda images: images.to(device).float().div_(255)
        _prepared.clear()  # keep at most one dataset converted
        _prepared[key] = (to_float(data.train_images), data.train_labels.to(device),
                          to_float(data.test_images), data.test_labels.to(device))
    return _prepared[key]
