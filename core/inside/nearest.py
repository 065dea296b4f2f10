"""GANs: copy or invent? The nearest training images of a generated one in the shipped CNN's
features, and how far real test images are from theirs for reference."""
from __future__ import annotations

import hashlib
from typing import Callable

import numpy as np
import torch
from torch.nn import functional as F

from core.i18n import N_, Message
from core.inside.cache import CACHE_VERSION, data_fingerprint
from core.inside.looking import one_thread


def unit_features(judge, images: torch.Tensor, batch_size: int = 1000,
                  progress: Callable[[float], None] | None = None) -> torch.Tensor:
    """The judge's penultimate features of images (uint8, or float in [-1, 1]), scaled to length
    1 (N, F) float32: distances between them then rank as the cosine similarity does."""
    found = []
    with one_thread():
        for start in range(0, len(images), batch_size):
            batch = images[start:start + batch_size]
            if batch.dtype == torch.uint8:
                batch = batch.float() / 127.5 - 1
            found.append(F.normalize(judge.logits_and_features(batch)[1].float().cpu(), dim=1))
            if progress:
                progress(min(1.0, (start + batch_size) / len(images)))
    return torch.cat(found)


def nearest(bank: torch.Tensor, queries: torch.Tensor,
            count: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(indices (Q, count), distances (Q, count)) of the nearest rows of ``bank`` to each query
    (rows of unit features: |a - b| = sqrt(2 - 2 cos))."""
    similarity = queries.float() @ bank.float().T                              # (Q, N)
    distances = (2 - 2 * similarity).clamp(min=0).sqrt()
    found = distances.topk(min(count, bank.shape[0]), largest=False)
    return found.indices.numpy(), found.values.numpy()


def training_bank(judge, data, progress: Callable[[float, str], None] | None = None
                  ) -> dict[str, np.ndarray]:
    """The judge's unit features of every training image (float16), and the reference for "copy
    or invent": each of 500 test images' distance to its nearest training image."""
    report = progress or (lambda fraction, text: None)
    count = len(data.train_images)
    bank = unit_features(judge, data.train_images, progress=lambda f: report(
        0.95 * f, Message(N_("the shipped CNN's features of {count:,} training images"),
                        count=count)))
    report(0.95, N_("distances of test images to their nearest training image"))
    test = unit_features(judge, data.test_images[:500])
    reference = nearest(bank, test, 1)[1][:, 0]
    return {"bank": bank.half().numpy(), "reference": reference.astype(np.float32)}


def bank_tensor(values: dict[str, np.ndarray]) -> torch.Tensor:
    """The stored bank as float32 unit rows (float16 storage halves the file; renormalising
    takes most of its rounding out)."""
    return F.normalize(torch.from_numpy(values["bank"]).float(), dim=1)


def bank_name(judge_file, data) -> str:
    stat = judge_file.stat()
    judge = hashlib.sha1(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return f"bank-v{CACHE_VERSION}-{judge}-{data_fingerprint(data)}"
