"""Slow results (a t-SNE map, the features of 60,000 training images), computed once per process
in a worker thread (``computations``) and kept on disk under ``core.paths.cache_root()``, and
the fingerprints of models and datasets their names are made from."""
from __future__ import annotations

import hashlib
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from core.i18n import N_, shown
from core.inside.looking import network_of
from core.paths import cache_root

CACHE_VERSION = 1          # bump when a cached result's meaning changes


# Fingerprints (the names of cached results) ------------------------------------------------------

def fingerprint_tensors(tensors) -> str:
    """A short hash of some tensors' values (a model's weights, a dataset's images)."""
    digest = hashlib.sha1()
    for tensor in tensors:
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def model_fingerprint(model) -> str:
    network = network_of(model)
    return fingerprint_tensors(list(network.state_dict().values()))


def data_fingerprint(data) -> str:
    """Every 97th image and label of both splits, the sizes and the class names."""
    digest = fingerprint_tensors([data.train_images[::97], data.train_labels[::97],
                                  data.test_images[::97], data.test_labels[::97]])
    extra = f"{len(data.train_images)}:{len(data.test_images)}:{','.join(data.class_names)}"
    return hashlib.sha1((digest + extra).encode()).hexdigest()[:16]


# Kept on disk, computed in a worker thread -------------------------------------------------------

def cache_path(name: str):
    return cache_root() / "inside" / f"{name}.npz"


def load_cached(name: str) -> dict[str, np.ndarray] | None:
    path = cache_path(name)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {key: stored[key] for key in stored.files}
    except (OSError, ValueError, EOFError):   # a damaged file: computed again
        return None


def save_cached(name: str, values: dict[str, np.ndarray]) -> None:
    path = cache_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(temporary, "wb") as handle:
        np.savez(handle, **values)  # type: ignore[arg-type]
    os.replace(temporary, path)


@dataclass
class Progress:
    """Where a background computation is: a fraction and a few words, read by the page."""
    fraction: float = 0.0
    text: str = N_("waiting for a free worker")
    started: float = field(default_factory=time.perf_counter)

    def __call__(self, fraction: float, text: str) -> None:
        self.fraction, self.text = fraction, text

    def shown(self) -> str:
        """The words in the current language (a ``Message`` with its values, made in a worker
        thread shared by every visitor, or a message marked with ``N_``)."""
        return shown(self.text)


class Computations:
    """Slow results computed once per process, one at a time in a worker thread (two cores are
    shared with training jobs), and kept on disk: ``submit`` returns the one future for a name
    and a ``Progress`` the page can show while it runs."""

    def __init__(self, keep: int = 16):
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlstudio-inside")
        self._running: dict[str, tuple[Future, Progress]] = {}
        self._keep = keep

    def submit(self, name: str, compute: Callable[[Progress], dict[str, np.ndarray]]
               ) -> tuple[Future, Progress]:
        with self._lock:
            found = self._running.get(name)
            if found is not None and not (found[0].done() and found[0].exception() is not None):
                return found
            progress = Progress()

            def work() -> dict[str, np.ndarray]:
                progress.started = time.perf_counter()
                stored = load_cached(name)
                if stored is not None:
                    return stored
                values = compute(progress)
                save_cached(name, values)
                return values

            future = self._pool.submit(work)
            self._running[name] = (future, progress)
            while len(self._running) > self._keep:     # forget the oldest finished one
                oldest = next((key for key, (done, _progress) in self._running.items()
                               if done.done()), None)
                if oldest is None:
                    break
                del self._running[oldest]
            return future, progress


computations = Computations()
