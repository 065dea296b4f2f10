"""Pick the device (CUDA when present) and a sensible CPU thread count, once per process."""
from __future__ import annotations

import os
import threading

import torch

from core.demo import from_environment

_lock = threading.Lock()
_configured = False


def configure() -> torch.device:
    """CUDA if available, else CPU with one intra-op thread per core (override: DLSTUDIO_THREADS).

    In demo mode the default is one thread: page renders and training jobs share the cores,
    and several multi-threaded ops at once spin against each other (bench/load.py measures it).
    """
    global _configured
    with _lock:
        if not _configured:
            default = 1 if from_environment().enabled else (os.cpu_count() or 1)
            threads = int(os.environ.get("DLSTUDIO_THREADS", "0")) or default
            torch.set_num_threads(threads)
            _configured = True
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def describe() -> str:
    device = configure()
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(0)}"
    threads = torch.get_num_threads()
    return (f"CPU: {threads} thread{'s' if threads != 1 else ''} ({os.cpu_count()} cores), "
            f"torch {torch.__version__}")
