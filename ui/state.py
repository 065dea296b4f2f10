"""Process-wide resources shared by all sessions (loaded once) and per-session identity."""
from __future__ import annotations

import uuid
from pathlib import Path

import streamlit as st

from core import checkpoints
from core.data import load_images

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"


def owner() -> str:
    """An id for this browser session (runs it starts are tagged with it)."""
    if "owner" not in st.session_state:
        st.session_state["owner"] = uuid.uuid4().hex[:12]
    return st.session_state["owner"]


@st.cache_resource(show_spinner="Loading the dataset ...")
def images():
    """The dataset, loaded once per process; raises DataUnavailable with instructions."""
    return load_images()


def shipped_path(model: str) -> Path:
    return CHECKPOINTS / f"{model}.pt"


@st.cache_resource(show_spinner=False)
def _cached_checkpoint(path: str, mtime: float) -> dict:
    return checkpoints.load(path)


def load_checkpoint_file(path: Path) -> dict:
    """A checkpoint from disk, cached per (path, modification time)."""
    return _cached_checkpoint(str(path), path.stat().st_mtime)
