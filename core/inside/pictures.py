"""Values as pictures for the *Inside* panels (numpy in, uint8 RGB out; the pages show them).

The colour maps are plotly's own scales, so a picture drawn here reads like a plotly heatmap with
that colour scale (values are interpolated linearly between equally spaced colours, as plotly
does with a list of colours).
"""
from __future__ import annotations

import numpy as np
from plotly import colors


def anchors(scale: list[str]) -> np.ndarray:
    """A plotly colour scale (a list of ``'#rrggbb'`` or ``'rgb(r, g, b)'``) as float (N, 3)."""
    rgb, _ = colors.convert_colors_to_same_type(scale, colortype="rgb")
    return np.array([colors.unlabel_rgb(colour) for colour in rgb], np.float32)


# Blue (negative) - white - red (positive): RdBu reversed, without its two darkest ends, so the
# extremes are the 7-class ColorBrewer RdBu's the pictures were first drawn with.
DIVERGING = anchors(colors.diverging.RdBu_r[1:-1])
SEQUENTIAL = anchors(colors.sequential.Viridis)
# Every third colour of Inferno (black - purple - orange - pale yellow): the heat overlay's scale.
HEAT = anchors(colors.sequential.Inferno[::3])


def colour(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> uint8 RGB (..., 3) along a colour scale's anchors (N, 3)."""
    position = np.clip(np.nan_to_num(values), 0, 1) * (len(scale) - 1)
    low = np.floor(position).astype(int).clip(0, len(scale) - 2)
    weight = (position - low)[..., None]
    return ((1 - weight) * scale[low] + weight * scale[low + 1]).round().astype(np.uint8)


def viridis(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> viridis (a layer's maps, scaled together)."""
    return colour(values, SEQUENTIAL)


def signed_colours(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """Signed values -> blue (negative), white (0), red (positive), symmetric around 0."""
    limit = limit or float(np.abs(values).max()) or 1.0
    return colour(0.5 + 0.5 * np.asarray(values) / limit, DIVERGING)


def magnitude_colours(values: np.ndarray) -> np.ndarray:
    """Values scaled to [0, 1] by their own range -> viridis."""
    values = np.asarray(values, dtype=np.float32)
    low, high = float(values.min()), float(values.max())
    return viridis((values - low) / (high - low if high > low else 1.0))


def heat_overlay(image: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """A grey image ((H, W) in [0, 1]) under a heat map ((H, W) in [0, 1]): the hotter, the more
    of the heat colour shows."""
    grey = np.repeat(np.clip(image, 0, 1)[..., None] * 255, 3, axis=2)
    alpha = np.clip(heat, 0, 1)[..., None] * 0.85
    return ((1 - alpha) * grey + alpha * colour(heat, HEAT)).round().astype(np.uint8)


def grey(image: np.ndarray) -> np.ndarray:
    """(C, H, W) in [-1, 1] or [0, 1] grey or colour -> (H, W) in [0, 1] for overlays."""
    values = np.asarray(image, dtype=np.float32)
    if values.min() < 0:
        values = (values + 1) / np.float32(2)
    return values.mean(0) if values.ndim == 3 else values


def to_rgb(image: np.ndarray) -> np.ndarray:
    """(C, H, W) in [-1, 1] -> uint8 RGB (H, W, 3)."""
    values = ((np.clip(np.asarray(image, dtype=np.float32), -1, 1) + 1) * 127.5).round()
    values = values.astype(np.uint8)
    if values.shape[0] == 1:
        values = np.repeat(values, 3, axis=0)
    return values.transpose(1, 2, 0)
