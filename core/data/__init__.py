"""Datasets held as whole tensors in memory; batches are index slices.

``load_images()`` gives Fashion-MNIST, or tiny generated data when DLSTUDIO_DATASET=synthetic
(the tests and smoke runs use that; it needs no files).
"""
from __future__ import annotations

import os


def dataset_name() -> str:
    return os.environ.get("DLSTUDIO_DATASET", "fashion-mnist")


def load_images():
    from core.data import fashion_mnist, synthetic
    if dataset_name() == "synthetic":
        return synthetic.make()
    return fashion_mnist.load()


def images_status() -> tuple[bool, str]:
    from core.data import fashion_mnist
    if dataset_name() == "synthetic":
        return True, "synthetic test data (DLSTUDIO_DATASET=synthetic)"
    return fashion_mnist.status()
