"""What both *Inside* panels share: the checkpoint and dataset they look at, widget values kept
while a view is closed, waiting for a background result, and pictures enlarged for the page."""
from __future__ import annotations

import time

import numpy as np
import streamlit as st
import torch

from core import checkpoints, inside
from core.data.fashion_mnist import DataUnavailable
from core.i18n import _
from core.images import grid
from ui import state

LAYOUT = dict(margin=dict(l=10, r=10, t=60, b=10), template="plotly_white",
              legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0))
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.3, xanchor="left", x=0)


def resolve(source) -> tuple[dict, str] | None:
    """(checkpoint, cache key) of a payload or a checkpoint file, quietly (the page has already
    said why a file cannot be read). The keys are the GAN explorer's, so its model is reused."""
    try:
        return state.payload_and_key(source)
    except (checkpoints.CheckpointError, OSError):
        return None


def dataset():
    try:
        return state.images()
    except DataUnavailable:
        return None


def kept(key: str, default):
    """A widget's last value, kept while the widget is not drawn (another view is open:
    Streamlit forgets the state of widgets a run does not draw)."""
    return st.session_state.get(f"{key}.kept", default)


def keep(key: str, value) -> None:
    st.session_state[f"{key}.kept"] = value


def wait_for(future, progress: inside.Progress, label: str):
    """A background result, or None while it is computed (the first time only): then a progress
    bar in a fragment that polls it and redraws the page when it is ready. The script thread is
    never held for more than a moment, so the rest of the page and other widgets stay live.
    ``label``: what is computed, already in the page's language."""
    deadline = time.perf_counter() + 0.3      # quick results: drawn in this run, no flicker
    while not future.done() and time.perf_counter() < deadline:
        time.sleep(0.02)
    if not future.done():
        @st.fragment(run_every=0.5)
        def poll():
            if future.done():
                st.rerun(scope="app")
            seconds = time.perf_counter() - progress.started
            st.progress(min(max(progress.fraction, 0.0), 0.99),
                        text=_("{label} — the first time only: {step} ({seconds:.0f} s)").format(
                            label=label, step=progress.shown(), seconds=seconds))
        poll()
        return None
    error = future.exception()
    if error is not None:
        st.error(_("{label} failed: {kind}: {error}").format(label=label,
                                                              kind=type(error).__name__,
                                                              error=error))
        return None
    return future.result()


def picture(values: np.ndarray, scale: int) -> np.ndarray:
    """An RGB picture enlarged (nearest neighbour)."""
    return grid([values], columns=1, scale=scale, padding=0)


def grey_rgb(image: torch.Tensor) -> np.ndarray:
    """A uint8 (C, H, W) image as a grey RGB picture (H, W, 3)."""
    grey = image.float().mean(0).round().to(torch.uint8).numpy()
    return np.repeat(grey[..., None], 3, axis=2)
