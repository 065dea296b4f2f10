"""Process-wide resources shared by all sessions (loaded once) and per-session identity."""
from __future__ import annotations

import threading
import uuid

import streamlit as st

from core import checkpoints
from core.data import load_images
from core.jobs import manager
from core.paths import CHECKPOINTS


VISITOR_PARAMETER = "visitor"


def owner() -> str:
    """An id for this visitor (runs it starts are tagged with it).

    On a hosted demo it also lives in the page's URL (``?visitor=…``, 32 random hex digits), so
    reloading the tab keeps the visitor's runs, running job and one-job cap; someone given the
    link shares them, as with any private link. Off the demo the URL stays clean."""
    if "owner" not in st.session_state:
        token = st.query_params.get(VISITOR_PARAMETER, "") if limits().enabled else ""
        valid = len(token) == 32 and all(ch in "0123456789abcdef" for ch in token)
        st.session_state["owner"] = token if valid else uuid.uuid4().hex
    visitor = st.session_state["owner"]
    if limits().enabled and st.query_params.get(VISITOR_PARAMETER) != visitor:
        st.query_params[VISITOR_PARAMETER] = visitor
    return visitor


def seen() -> str:
    """Mark this visitor as present (demo mode stops the jobs of visitors gone too long)."""
    visitor = owner()
    manager().touch(visitor)
    return visitor


def limits():
    return manager().limits


def upload_cap_mb() -> int | None:
    """The demo's upload cap for ``st.file_uploader(max_upload_size=...)``, so the uploader's own
    label says it (not the server's 200 MB); None off the demo."""
    cap = limits()
    return int(cap.max_upload_mb) if cap.enabled else None


def upload_too_big(size: int) -> str | None:
    """A message when an upload is over the demo's size cap, else None."""
    cap = limits()
    if cap.enabled and size > cap.max_upload_mb * 2**20:
        return (f"the file is {size / 2**20:.1f} MB; this shared demo accepts at most "
                f"{cap.max_upload_mb} MB")
    return None


@st.cache_resource(show_spinner="Loading the dataset ...")
def images():
    """The dataset, loaded once per process; raises DataUnavailable with instructions."""
    return load_images()


@st.cache_resource(show_spinner=False)
def _cached_checkpoint(path: str, mtime: float) -> dict:
    return checkpoints.load(path)


def payload_and_key(source) -> tuple[dict, str]:
    """(checkpoint, cache key) of a loaded payload or a checkpoint file (cached per path and
    modification time); CheckpointError or OSError when the file cannot be read."""
    if isinstance(source, dict):
        return source, f"{source['model']}:{id(source)}"
    return load_checkpoint_file(source), f"{source}:{source.stat().st_mtime}"


def load_checkpoint_file(path: Path) -> dict:
    """A checkpoint from disk, cached per (path, modification time)."""
    return _cached_checkpoint(str(path), path.stat().st_mtime)


@st.cache_resource(show_spinner=False)
def preload() -> bool:
    """Once per server process (demo mode): load every shipped checkpoint and the dataset in a
    background thread, so visitors do not wait for them one after another."""
    def work():
        for path in sorted(CHECKPOINTS.glob("*.pt")):
            try:
                load_checkpoint_file(path)
            except checkpoints.CheckpointError:
                pass
        try:
            images()
        except Exception:  # the pages explain a missing dataset themselves
            pass
    threading.Thread(target=work, name="dlstudio-preload", daemon=True).start()
    return True
