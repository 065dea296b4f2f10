"""Pick the device (CUDA when present) and a sensible CPU thread count, once per process."""
from __future__ import annotations

import os
import threading

import torch

from core.demo import from_environment

_lock = threading.Lock()
_configured = False


def configure(threads: int | None = None) -> torch.device:
    """CUDA if available, else CPU with one intra-op thread per core (override: DLSTUDIO_THREADS).

    In demo mode the default is one thread: page renders and training jobs share the cores,
    and several multi-threaded ops at once spin against each other (bench/load.py measures it).
    ``threads`` sets the count outright (a job's process: ``job_threads``).
    """
    global _configured
    with _lock:
        if threads:
            torch.set_num_threads(threads)
            _configured = True
        if not _configured:
            default = 1 if from_environment().enabled else (os.cpu_count() or 1)
            threads = int(os.environ.get("DLSTUDIO_THREADS", "0")) or default
            torch.set_num_threads(threads)
            _configured = True
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def job_threads(concurrent_jobs: int = 1) -> int:
    """Torch threads for one training job's process: ``DLSTUDIO_JOB_THREADS`` when set; one on
    a hosted demo (bench/load.py: with page renders and two jobs on two cores, one thread per job
    is fastest); else the cores but one (the server's: page renders) shared out among the jobs
    that may run at once. (``DLSTUDIO_THREADS`` sets the server's and the CLI's own threads.)

    More threads than free cores is the worst case: every parallel op waits for its slowest
    thread to be scheduled. A tiny MLP job took 1.5 s with one thread and 30-47 s with two on
    this 2-core machine while other work kept both cores busy."""
    if int(os.environ.get("DLSTUDIO_JOB_THREADS", "0") or 0) > 0:
        return int(os.environ["DLSTUDIO_JOB_THREADS"])
    if from_environment().enabled:
        return 1
    return max(1, ((os.cpu_count() or 1) - 1) // max(1, concurrent_jobs))


def describe() -> str:
    device = configure()
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(0)}"
    threads = torch.get_num_threads()
    return (f"CPU: {threads} thread{'s' if threads != 1 else ''} ({os.cpu_count()} cores), "
            f"torch {torch.__version__}")
