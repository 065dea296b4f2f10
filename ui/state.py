"""Process-wide resources shared by all sessions (loaded once) and per-session identity."""
from __future__ import annotations

import importlib
import threading
from pathlib import Path

import streamlit as st

from core import checkpoints, figures, identity
from core.data import load_images
from core.i18n import N_, _
from core.jobs import manager
from core.paths import CHECKPOINTS
from ui import cookies


VISITOR_PARAMETER = "visitor"      # an old demo's URL carried the id: dropped from the URL on sight


def owner() -> str:
    """An id for this visitor (the runs it starts are tagged with it).

    On a hosted demo it lives in a signed cookie (``core/identity.py``), never in a URL: a reload,
    a new tab or a bookmark of any page is the same visitor with the same runs and the same
    one-job cap, and a pasted address hands nothing over. A missing, forged or stale cookie
    makes a fresh visitor. A browser that refuses cookies keeps the id for this tab's session
    (``keep_identity`` tells it so once). Off the demo every session gets a fresh id."""
    if "owner" not in st.session_state:
        visitor = None
        if limits().enabled:
            try:
                visitor = identity.verify(st.context.cookies.get(identity.COOKIE))
            except Exception:   # (no browser request: a test harness)
                visitor = None
        st.session_state["owner"] = visitor or identity.new_visitor()
    if VISITOR_PARAMETER in st.query_params:
        del st.query_params[VISITOR_PARAMETER]
    return st.session_state["owner"]


def keep_identity() -> None:
    """Demo mode, on every page run: (re)write the visitor's cookie, renewing its lifetime; a
    browser that refuses it is told so once."""
    if not limits().enabled:
        return
    visitor = owner()
    if "owner.cookie" not in st.session_state:
        st.session_state["owner.cookie"] = identity.issue(visitor)
    cookies.write(identity.COOKIE, st.session_state["owner.cookie"], identity.LIFETIME_S,
                  key="dlstudio.identity",
                  refused=_("This browser refuses cookies, so your runs and your training job "
                            "stay with this tab only: a reload or another tab starts afresh."))


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
        return _("the file is {size:.1f} MB; this shared demo accepts at most {cap} MB").format(
            size=size / 2**20, cap=cap.max_upload_mb)
    return None


# (The spinner's words are fixed when the module is imported, in English: Streamlit takes them
# once, and the dataset loads once per process, in the background on a hosted demo.)
@st.cache_resource(show_spinner=N_("Loading the dataset ..."))
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
        return source, f"{source['model']}:{payload_digest(source)}"
    return load_checkpoint_file(source), f"{source}:{source.stat().st_mtime}"


def payload_digest(payload: dict) -> str:
    """A key for a loaded checkpoint: a hash of what it holds (its tensors' bytes and its
    numbers), computed once per payload object."""
    return content_key(payload, figures.digest)


def content_key(value, compute) -> str:
    """``compute(value)``, a key of the object's contents, computed once per object. (An
    ``id()`` is reused by the next object once this one is freed, so a cache keyed by it could
    hand a later upload an earlier model; the memo holds the object, so its id stays its own.)"""
    known = _content_keys.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    key = compute(value)
    if len(_content_keys) > 64:
        _content_keys.clear()
    _content_keys[id(value)] = (value, key)
    return key


_content_keys: dict[int, tuple[object, str]] = {}


def load_checkpoint_file(path: Path) -> dict:
    """A checkpoint from disk, cached per (path, modification time)."""
    return _cached_checkpoint(str(path), path.stat().st_mtime)


@st.cache_resource(show_spinner=False)
@st.cache_resource(show_spinner=False)
def warm_imports() -> bool:
    """Once per server, with its first page: torchvision (2-4 s on a 2-core machine, with the
    parts of torch._dynamo it pulls in), which the first picture grid needs. core/images.py
    imports it only where a grid is made, so a CLI command starts without it; the server takes
    it before a learner's first click. (In a background thread instead, it ran into that click:
    bench/browser_waits.py load measured DCGAN/BigGAN/SAGAN/StyleGAN 7.7/6.6/8.3/9.3 s that way,
    6.9/6.3/6.7/7.5 s this way.)"""
    importlib.import_module("torchvision.utils")
    return True


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
