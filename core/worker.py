"""One training job, wherever it runs: the loop every launcher drives.

The server's job manager (a thread, or by default a process of its own: ``core.job_process``),
a Ray cluster (``core.ray_jobs``), ``torchrun`` and Ray Train's TorchTrainer (``core.cli``,
``core.distributed``) all call ``run_job``: set the threads, load the data from its description,
run ``core.training.train``, write each event to the run's folder (the source of truth; rank 0
only when data-parallel) and hand it to ``emit`` (the live channel back to the pages).
"""
from __future__ import annotations

import os
import socket
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from core import events, runs, training
from core.data.sources import DataSource
from core.device import configure


@dataclass
class JobRequest:
    """Everything a job's process needs, picklable: no Streamlit, no open files, no lambdas."""
    model: str                       # the registry's name of the model
    config: object                   # its config dataclass
    data: object                     # a DataSource, or (threads and local processes) the data
    run_folder: str
    resume: dict | None = None       # a loaded checkpoint to continue from
    threads: int = 0                 # torch threads to set in the job's process (0: leave them)
    nice: int = 0                    # how much lower the job's process priority is than the server's
    env: dict = field(default_factory=dict)   # the server's DLSTUDIO_* settings
    backend: str = "thread"          # what runs it: thread | process | ray | torchrun | ray-train
    checkpoint_every_s: float = 60.0


def settings_of_this_server() -> dict:
    """The DLSTUDIO_* variables a job's process must see as the server does (a forkserver child
    was forked before the server's environment last changed)."""
    return {name: value for name, value in os.environ.items() if name.startswith("DLSTUDIO_")}


def enter_process(request: JobRequest) -> None:
    """In a job's own process: the server's settings, the thread count, a lower priority."""
    for name in [name for name in os.environ if name.startswith("DLSTUDIO_")]:
        if name not in request.env:
            del os.environ[name]
    os.environ.update(request.env)
    if request.threads:
        configure(threads=request.threads)
    if request.nice and hasattr(os, "nice"):
        try:
            os.nice(request.nice)
        except OSError:
            pass


def where(backend: str, parallel=None) -> str:
    """What the Runs page shows in its "ran on" column."""
    text = f"{backend} on {socket.gethostname()}"
    if parallel is not None:
        text += f" ({parallel.world} workers, {parallel.backend})"
    return text


def run_job(request: JobRequest, emit: Callable[[events.Event], None],
            should_stop: Callable[[], bool], *, spec=None, parallel=None,
            device=None, policies: tuple = ()) -> None:
    """Load the data, train, record and emit every event; a failure becomes a ``Failed`` event
    (with the traceback in the run's status), never an exception out of here."""
    from core.registry import MODELS   # (imports every model: not at import time)
    spec = spec or MODELS[request.model]
    run = runs.Run(Path(request.run_folder))
    is_main = parallel is None or parallel.rank == 0
    step = int(request.resume.get("step", 0)) if request.resume else 0
    try:
        data = request.data.load(request.config) if isinstance(request.data, DataSource) \
            else request.data
        for event in training.train(spec, request.config, data,
                                    checkpoint_dir=run.folder if is_main else None,
                                    resume=request.resume, should_stop=should_stop,
                                    device=device, parallel=parallel, policies=policies,
                                    checkpoint_every_s=request.checkpoint_every_s):
            step = getattr(event, "step", step)
            if is_main:
                runs.record(run, event)
                if isinstance(event, events.Started):
                    run.set_status(ran_on=where(request.backend, parallel), pid=os.getpid(),
                                   host=socket.gethostname(), backend=request.backend)
            emit(event)
    except Exception as error:  # a crash must end the job visibly, never kill the server
        message = f"{type(error).__name__}: {error}"
        if is_main:
            run.set_status(status="failed", message=message,
                           traceback=traceback.format_exc()[-2000:])
        emit(events.Failed(step, message, str(run.checkpoint_path)))
