"""Generated pictures drawn so a learner can read them: every image at least ``READABLE`` (64)
screen pixels a side, enlarged by nearest neighbour (no blur), sent as PNG (Streamlit would send
a picture without transparency as JPEG, which smears the pixels' edges), and drawn at its own
width (``st.image`` shrinks a picture to its column: the pages lay pictures out in columns wide
enough for them).

``VIEW_WIDTH`` is the narrowest width a page's view column gives a picture on a 1400 px screen
(572 px measured, less a margin): a grid is made to fit it, so it is never shrunk there.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st
import torch

from core.i18n import _
from core.images import READABLE, enlarge, grid, png_bytes

VIEW_WIDTH = 560            # px: a page's view column at 1400 px (measured 572)
PADDING = 2                 # px between the pictures of a grid


def readable_grid(images: torch.Tensor | Sequence[np.ndarray], columns: int = 8,
                  max_width: int = VIEW_WIDTH, min_cell: int = READABLE) -> np.ndarray:
    """uint8 images (N, C, H, W) or pictures (H, W, 3) in a grid whose every picture is at least
    ``min_cell`` px a side: the smallest whole enlargement that gives it, or, when that grid is
    wider than ``max_width``, exactly ``min_cell`` px (a fractional nearest-neighbour scale)."""
    return grid(images, columns=columns, padding=PADDING, min_cell=min_cell, max_width=max_width)


def readable_picture(picture: np.ndarray, side: int, min_cell: int = READABLE) -> np.ndarray:
    """A saved picture (a grid of ``side``-px images, or one image) enlarged by nearest neighbour
    so each image is at least ``min_cell`` px: by a whole number when one of at most 1.5 times the
    needed size exists, else by the fraction that gives exactly ``min_cell``."""
    needed = min_cell / max(side, 1)
    if needed <= 1:
        return picture
    whole = float(np.ceil(needed))
    return enlarge(picture, whole if whole <= needed * 1.5 and whole * picture.shape[1]
                   <= VIEW_WIDTH else needed)


def show(picture: np.ndarray, caption: str | None = None, *, container=None,
         download: str | None = None) -> None:
    """Draw ``picture`` (uint8 (H, W) or (H, W, 3)) at its own width, losslessly; with a PNG
    download button when ``download`` names the file (without .png). The caption goes through
    ``_()`` (a caller's ``N_``-marked text is translated; a translated one comes out as it is)."""
    where = container if container is not None else st
    where.image(picture, caption=_(caption) if caption else caption, width=int(picture.shape[1]),
                output_format="PNG")
    if download:
        where.download_button(_("Download PNG"), png_bytes(picture), file_name=f"{download}.png",
                              mime="image/png", key=f"{download}.png")


def canvas_component():
    """The drawing canvas (``streamlit-drawable-canvas``, requirements.txt), or None without it
    (the pages take uploads only then). Imported when a page draws it: importing it declares a
    Streamlit component, which only works inside a running app."""
    try:
        from streamlit_drawable_canvas import st_canvas
    except ImportError:       # pragma: no cover - installed by make run / make test
        return None
    return st_canvas
