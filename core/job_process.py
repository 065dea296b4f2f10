"""Training jobs in their own OS processes: the job manager's default launcher.

The server process does no training: each job is a child process that runs
``core.worker.run_job`` and sends its events back through a pipe, which a thread of the server
reads into the ``Job`` the pages poll; the run's folder, written by the child, stays the source of
truth. Stop sets a shared flag the loop checks before every step. A child that dies (the
out-of-memory killer, a segfault, ``kill -9``) closes its end of the pipe: the server sees that at
once and marks the run failed with the reason, keeping its last checkpoint.

Children are forked from a *forkserver*, a small process started once per server that has torch
and ``core`` (every model) imported already, so a job starts in well under a second instead of
the ~3 s of a fresh interpreter importing torch (bench/jobs.py measures it). Where there is no
forkserver (Windows), children are spawned.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
import time
from multiprocessing import spawn
from pathlib import Path

from core import i18n, runs, worker
from core.i18n import _

PROCESS_PREFIX = "dlstudio-job"
POLL_S = 0.25
STOP_GRACE_S = 30.0   # a job still running this long after Stop (stuck reading data or in a
                      # final evaluation, which no step check reaches) is ended


def _preparation_data(name: str, _original=spawn.get_preparation_data) -> dict:
    """A job's child must not re-run the server's main script: under Streamlit ``__main__`` is the
    page script (Streamlit installs it there), which multiprocessing would otherwise execute in
    the child before unpickling the job."""
    data = _original(name)
    if name.startswith(PROCESS_PREFIX):
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


spawn.get_preparation_data = _preparation_data

_context = None
_context_lock = threading.Lock()


def context():
    """The multiprocessing context jobs start in (``DLSTUDIO_START_METHOD`` overrides)."""
    global _context
    with _context_lock:
        if _context is None:
            methods = multiprocessing.get_all_start_methods()
            method = os.environ.get("DLSTUDIO_START_METHOD") or \
                ("forkserver" if "forkserver" in methods else "spawn")
            _context = multiprocessing.get_context(method)
            if method == "forkserver":
                # the heavy imports, once, in the forkserver only (core/job_preload.py)
                _context.set_forkserver_preload(["core.job_preload", __name__])
        return _context


def warm_up() -> None:
    """Start the forkserver now (it imports torch and the models, ~3 s of one core), so the
    first Train click does not wait for it."""
    if context().get_start_method() == "forkserver":
        from multiprocessing import forkserver
        forkserver.ensure_running()


WARM_UP_AFTER_S = 15.0


def warm_up_later() -> None:
    """Start the forkserver a little after the server's first page: its imports take a core for
    3-5 s, and on a 2-core machine they would slow the page a learner has just opened (a first
    Load pretrained took 2-3 s longer). A Train click before then starts it itself."""
    time.sleep(float(os.environ.get("DLSTUDIO_WARM_UP_AFTER_S", WARM_UP_AFTER_S)))
    warm_up()


def _child(requests, sender, stop_flag, language: str = i18n.DEFAULT) -> None:
    """The job's process: read its request, train, sending every event; stop (with a checkpoint)
    when asked, on SIGTERM/SIGINT, or when the server is gone (its end of the pipe closed). Its
    messages (a run that diverged, ...) speak ``language``, its visitor's."""
    i18n.use(language)
    server_gone = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_args: server_gone.set())
    request: worker.JobRequest = pickle.loads(requests.recv_bytes())
    requests.close()
    worker.enter_process(request)

    def emit(event) -> None:
        try:
            sender.send_bytes(pickle.dumps(event, protocol=pickle.HIGHEST_PROTOCOL))
        except (BrokenPipeError, ConnectionError, OSError):
            server_gone.set()

    worker.run_job(request, emit, lambda: stop_flag.is_set() or server_gone.is_set())
    sender.close()
    run = runs.Run(Path(request.run_folder))
    if server_gone.is_set() and not stop_flag.is_set() and run.status.get("status") == "stopped":
        run.set_status(message=_("stopped when the server shut down; Resume continues from its "
                                 "checkpoint"))


def death_reason(exitcode: int | None) -> str:
    """Why a job's process ended without saying so, in words."""
    if exitcode is None:
        return _("stopped answering")
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = _("signal {number}").format(number=-exitcode)
        if name == "SIGKILL":
            return _("was killed (SIGKILL: the system's out-of-memory killer does this when memory "
                     "runs out, or someone ran kill -9)")
        if name == "SIGSEGV":
            return _("crashed (SIGSEGV, a segmentation fault)")
        return _("was ended by {signal}").format(signal=name)
    return _("exited with code {code}").format(code=exitcode)


class ProcessHandle:
    """What the job manager holds of a running job's process."""

    def __init__(self, process, stop_flag):
        self.process, self.stop_flag = process, stop_flag

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def stop(self) -> None:
        self.stop_flag.set()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()


class ProcessLauncher:
    """Runs a job's ``JobRequest`` in a child process; ``run`` blocks (in the job's server
    thread) until the child ends, applying its events as they come."""

    name = "process"

    def prepare(self) -> None:
        threading.Thread(target=warm_up_later, name="dlstudio-forkserver", daemon=True).start()

    def run(self, job, spec, request: worker.JobRequest, apply) -> str | None:
        """None when the job ended by itself (its last event says how), else why it died."""
        ctx = context()
        receiver, sender = ctx.Pipe(duplex=False)
        requests, request_sender = ctx.Pipe(duplex=False)
        stop_flag = ctx.Event()
        process = ctx.Process(target=_child, args=(requests, sender, stop_flag, i18n.current()),
                              name=f"{PROCESS_PREFIX}-{job.id}", daemon=True)
        process.start()
        sender.close()   # the child holds the only writing end: its death is our end-of-file
        requests.close()
        job.handle = ProcessHandle(process, stop_flag)
        if job.stop_event.is_set():
            stop_flag.set()
        try:
            # By value through the pipe, not as the process's arguments: those would move any
            # tensors (data handed over in memory, a checkpoint to resume) into shared memory,
            # which a container's small /dev/shm (64 MB by default) cannot hold.
            request_sender.send_bytes(pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
        except (BrokenPipeError, OSError):
            pass   # the child died before reading it: reported below like any death
        finally:
            request_sender.close()
        stop_seen, ended_after_stop = None, False
        try:
            while True:
                if job.stop_event.is_set():
                    stop_flag.set()
                    stop_seen = stop_seen or time.monotonic()
                    if time.monotonic() - stop_seen > STOP_GRACE_S and process.is_alive():
                        process.kill()
                        ended_after_stop = True
                        break
                if receiver.poll(POLL_S):
                    try:
                        event = pickle.loads(receiver.recv_bytes())
                    except (EOFError, OSError):
                        break
                    apply(event)
                elif not process.is_alive():
                    if not receiver.poll(0):
                        break
        finally:
            receiver.close()
        process.join(timeout=10)
        if process.is_alive():   # it closed the pipe but hangs: it cannot report any more
            process.kill()
            process.join(timeout=5)
        if ended_after_stop:
            return _("did not stop within {seconds:.0f} s of Stop (it was busy outside a training "
                     "step, e.g. reading data or evaluating), so its process was ended").format(
                seconds=STOP_GRACE_S)
        return None if process.exitcode == 0 else death_reason(process.exitcode)

