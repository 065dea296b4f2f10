"""Image grids and PNG bytes for sample galleries (pure: tensors in, arrays/bytes out)."""
from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image


def grid(images: torch.Tensor, columns: int = 8, padding: int = 2, scale: int = 1) -> np.ndarray:
    """uint8 (N, C, H, W) -> one uint8 picture (rows * H, columns * W[, 3]) with gaps."""
    images = images.detach().cpu()
    count, channels, height, width = images.shape
    rows = -(-count // columns)
    canvas = torch.full((channels, rows * (height + padding) + padding,
                         columns * (width + padding) + padding), 255, dtype=torch.uint8)
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = padding + row * (height + padding), padding + column * (width + padding)
        canvas[:, top:top + height, left:left + width] = images[index]
    picture = canvas.permute(1, 2, 0).numpy()
    if channels == 1:
        picture = picture[:, :, 0]
    if scale > 1:
        picture = np.kron(picture, np.ones((scale, scale) + (1,) * (picture.ndim - 2), np.uint8))
    return picture


def png_bytes(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()
