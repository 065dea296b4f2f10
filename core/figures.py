"""Figures that depend only on a checkpoint's weights, measured once and stored in it.

Some figures take minutes on a CPU (BigGAN's truncation curve, StyleGAN's path lengths, the
CLI's 10,000-sample evaluation) and never change for the same weights. ``python -m core.cli
evaluate FILE --store`` measures them and writes them into the checkpoint under ``figures``,
beside a digest of its weights; the CLI's ``evaluate`` and the pages read them back in
milliseconds. A checkpoint whose weights changed after its figures were stored (or one without
them: a learner's own run) reads as having none, and the figures are measured on request.

    payload["figures"] = {"weights": "<sha256 of the weights, 32 hex>",
                          "evaluate": {name: value, ...},          # the CLI's figures
                          "<page figure>": ..., ...}                # ModelSpec.figures
"""
from __future__ import annotations

import hashlib
from typing import Any

import torch

WEIGHTS = "weights"
EVALUATE = "evaluate"


def digest(value: Any) -> str:
    """A content hash (32 hex digits) of nested dicts, lists and tensors: bytes, shapes, dtypes."""
    hasher = hashlib.sha256()

    def feed(item) -> None:
        if isinstance(item, torch.Tensor):
            hasher.update(f"T{item.dtype}{tuple(item.shape)}".encode())
            if item.numel():
                hasher.update(item.detach().cpu().contiguous().reshape(-1).view(torch.uint8)
                              .numpy().tobytes())
        elif isinstance(item, dict):
            hasher.update(f"D{len(item)}".encode())
            for key in sorted(item, key=str):
                hasher.update(f"K{key!s}".encode())
                feed(item[key])
        elif isinstance(item, (list, tuple)):
            hasher.update(f"L{len(item)}".encode())
            for element in item:
                feed(element)
        else:
            hasher.update(f"V{item!r}".encode())
    feed(value)
    return hasher.hexdigest()[:32]


def weights_digest(payload: dict) -> str:
    """What the stored figures depend on: the weights (and the generator's average, when kept)
    and the config that builds the network around them."""
    return digest({"state_dict": payload.get("state_dict"), "config": payload.get("config"),
                   "image_shape": payload.get("image_shape")})


def stored(payload: dict, name: str) -> Any | None:
    """Figure ``name`` as stored with these very weights, or None (absent, or weights changed)."""
    figures = payload.get("figures")
    if not isinstance(figures, dict) or name not in figures:
        return None
    if figures.get(WEIGHTS) != weights_digest(payload):
        return None
    return figures[name]


def attach(payload: dict, values: dict[str, Any]) -> dict:
    """A copy of ``payload`` with ``values`` stored as figures of its current weights (figures
    stored for other weights are dropped)."""
    current = weights_digest(payload)
    figures = payload.get("figures")
    kept = dict(figures) if isinstance(figures, dict) and figures.get(WEIGHTS) == current else {}
    kept.update(values)
    kept[WEIGHTS] = current
    return {**payload, "figures": kept}


def plain(value: Any) -> Any:
    """``value`` as checkpoint-safe plain data: tensors and numpy values become lists and floats
    (``torch.load(weights_only=True)`` reads dicts, lists, numbers and strings)."""
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value
