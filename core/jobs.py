"""Background training jobs: a queue, a process-wide concurrency limit, Stop, and where they run.

The server keeps one ``Job`` per job in memory (what the pages poll) and a FIFO queue of those
over the limit; each job has a server thread that waits for a slot, then hands the job to a
launcher and applies the events it sends back. Launchers (``DLSTUDIO_JOBS``, or
``DLSTUDIO_RAY_ADDRESS`` for a cluster):

- ``process`` (the default): the job trains in its own OS process (``core.job_process``), so page
  renders never wait for it and a crash or an out-of-memory kill takes only the job;
- ``ray``: the job trains on a Ray cluster (``core.ray_jobs``); nothing of Ray is imported
  otherwise;
- ``thread``: in a thread of the server (as before; the tests of the loop itself use it).

All run the same ``core.worker.run_job``, which writes the run's folder (the source of truth).
What a job trains on is a ``DataSource`` (a description its process loads), or a function
called in the job's server thread that returns one, or the data itself.
"""
from __future__ import annotations

import dataclasses
import itertools
import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

from core import cards, checkpoints, demo, events, i18n, runs
from core.config import BaseConfig, from_dict
from core.data.sources import DataSource
from core.device import job_threads
from core.i18n import _
from core.runs import METRIC_COLUMNS
from core.worker import JobRequest, run_job, settings_of_this_server

MAX_SAMPLE_GRIDS = 300


def default_limit() -> int:
    """One job at a time on CPU (two would only share the same cores); configurable."""
    return max(1, int(os.environ.get("DLSTUDIO_MAX_JOBS", "1")))


BACKENDS = ("process", "thread", "ray")


def default_backend() -> str:
    """``ray`` when a cluster address is set, else ``DLSTUDIO_JOBS`` (default ``process``)."""
    if os.environ.get("DLSTUDIO_RAY_ADDRESS"):
        return "ray"
    backend = os.environ.get("DLSTUDIO_JOBS", "process").strip().lower() or "process"
    if backend not in BACKENDS:
        raise ValueError(f"DLSTUDIO_JOBS must be one of {', '.join(BACKENDS)}; got {backend!r}")
    return backend


def job_priority() -> int:
    """How much lower a job process's priority is than the server's (``DLSTUDIO_JOB_NICE``;
    default 10: page renders win the CPU, bench/load.py measures it)."""
    return int(os.environ.get("DLSTUDIO_JOB_NICE", "10"))


class ThreadLauncher:
    """The job trains in its server thread (no isolation: for the loop's own tests)."""

    name = "thread"

    def prepare(self) -> None:
        pass

    def run(self, job, spec, request: JobRequest, apply) -> str | None:
        run_job(request, apply, job.stop_event.is_set, spec=spec)
        return None


def make_launcher(backend: str):
    if backend == "thread":
        return ThreadLauncher()
    if backend == "process":
        from core.job_process import ProcessLauncher
        return ProcessLauncher()
    if backend == "ray":
        from core.ray_jobs import RayLauncher   # imports Ray: only when asked for
        return RayLauncher()
    raise ValueError(f"unknown job backend {backend!r}; one of {', '.join(BACKENDS)}")


class Handle(Protocol):
    """A launcher's grip on a running job (a process, a Ray task): Stop reaches it."""
    def stop(self) -> None: ...


@dataclass
class Job:
    id: str
    model: str
    config: BaseConfig
    run: runs.Run
    owner: str = ""
    state: str = "queued"          # queued | running | finished | stopped | failed
    message: str = ""
    step: int = 0
    start_step: int = 0
    total_steps: int = 0
    rows: list = field(default_factory=list)       # [step, epoch, name, value]
    samples: list = field(default_factory=list)    # [(step, uint8 images)] for GAN pages
    final: dict = field(default_factory=dict)
    evaluation: dict = field(default_factory=dict, repr=False)
    created: float = field(default_factory=time.time)
    started: float | None = None
    ended: float | None = None
    stop_event: threading.Event = field(default_factory=threading.Event, repr=False)
    stop_reason: str = ""
    backend: str = "thread"                        # what trains it: process | ray | thread
    handle: Handle | None = field(default=None, repr=False)   # the launcher's handle (Stop reaches it)
    source: object = field(default=None, repr=False)   # what it trains on (a remedy restart reuses it)
    language: str = field(default_factory=i18n.current)  # its visitor's: the job's messages speak it

    @property
    def is_active(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def steps_per_s(self) -> float:
        if not self.started or self.step <= self.start_step:
            return 0.0
        return (self.step - self.start_step) / max((self.ended or time.time()) - self.started, 1e-9)

    @property
    def budget_left_s(self) -> float | None:
        """Seconds of the time budget left while it runs (None without a budget)."""
        budget = self.config.time_budget_s
        if not budget or not self.started or self.state != "running":
            return None
        return max(budget - (time.time() - self.started), 0.0)

    @property
    def budget_binds(self) -> bool:
        """The run will end on its time budget before its last step, at this speed."""
        left, speed = self.budget_left_s, self.steps_per_s
        return left is not None and (not speed or left < (self.total_steps - self.step) / speed)

    @property
    def eta_s(self) -> float | None:
        """Seconds to the end: the steps left at this speed, or the time budget left if sooner."""
        speed = self.steps_per_s
        if not speed or self.state != "running":
            return None
        steps_left = (self.total_steps - self.step) / speed
        left = self.budget_left_s
        return min(steps_left, left) if left is not None else steps_left

    @property
    def progress(self) -> float:
        """The share done: of the steps, or of the time budget when that ends the run first."""
        steps = self.step / self.total_steps if self.total_steps else 0.0
        left = self.budget_left_s
        if self.budget_binds and left is not None:
            elapsed = self.config.time_budget_s - left
            return max(steps, elapsed / self.config.time_budget_s)
        return steps

    def metrics(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows), columns=METRIC_COLUMNS)


class JobManager:
    def __init__(self, max_concurrent: int | None = None, limits: demo.Limits | None = None,
                 backend: str | None = None):
        self.limits = limits or demo.Limits()
        self.max_concurrent = max_concurrent or (self.limits.max_jobs if self.limits.enabled
                                                 else default_limit())
        self.backend = backend or default_backend()
        self.launcher = make_launcher(self.backend)
        self.launcher.prepare()
        self._jobs: dict[str, Job] = {}
        self._waiting: list[str] = []
        self._running = 0
        self._condition = threading.Condition()
        self._ids = itertools.count(1)
        self._seen: dict[str, float] = {}     # visitor -> last time one of their pages ran
        if self.limits.enabled:
            threading.Thread(target=self._watch_abandoned, name="dlstudio-watchdog",
                             daemon=True).start()

    # Visitors (demo mode): a job whose visitor's tab is gone is stopped after a grace period.
    def touch(self, owner: str) -> None:
        """Called by every page run and every live poll of a visitor."""
        if owner:
            self._seen[owner] = time.time()

    def stop_abandoned(self, now: float | None = None) -> list[str]:
        now = time.time() if now is None else now
        stopped = []
        for job in list(self._jobs.values()):
            seen = self._seen.get(job.owner)
            if job.is_active and job.owner and seen is not None and \
                    now - seen > self.limits.abandon_after_s:
                job.stop_reason = i18n.spoken(job.language, lambda: _(
                    "stopped: its browser tab was closed (not seen for {seconds:.0f} s)").format(
                    seconds=self.limits.abandon_after_s))
                self.stop(job.id)
                stopped.append(job.id)
        return stopped

    def _watch_abandoned(self) -> None:
        while True:
            time.sleep(min(5.0, max(0.5, self.limits.abandon_after_s / 4)))
            self.stop_abandoned()

    def wait_estimate(self, job: Job) -> float | None:
        """Seconds until a queued job should start: what the running jobs have left plus the
        budgets of the jobs ahead of it (demo mode caps every job's time)."""
        position = self.queue_position(job)
        if position is None:
            return None
        with self._condition:
            ahead = [self._jobs[i] for i in self._waiting[:position - 1]]
        running = [j for j in self._jobs.values() if j.state == "running"]
        def remaining(j: Job) -> float:
            budget = getattr(j.config, "time_budget_s", 0.0) or 0.0
            elapsed = time.time() - (j.started or time.time())
            left = [x for x in (j.eta_s, budget - elapsed if budget else None) if x is not None]
            return max(0.0, min(left)) if left else (budget or 60.0)
        soonest = min((remaining(j) for j in running), default=0.0) if \
            len(running) >= self.max_concurrent else 0.0
        per_job = [getattr(j.config, "time_budget_s", 0.0) or 60.0 for j in ahead]
        return soonest + sum(per_job) / max(1, self.max_concurrent)

    # Queue bookkeeping.
    def queue_position(self, job: Job) -> int | None:
        """1 for the next job to start; None when the job is not waiting."""
        with self._condition:
            return self._waiting.index(job.id) + 1 if job.id in self._waiting else None

    def _acquire(self, job: Job) -> bool:
        with self._condition:
            while not (self._running < self.max_concurrent and self._waiting[0] == job.id):
                if job.stop_event.is_set():
                    self._waiting.remove(job.id)
                    self._condition.notify_all()
                    return False
                self._condition.wait(timeout=0.2)
            self._waiting.pop(0)
            self._running += 1
            return True

    def _release(self) -> None:
        with self._condition:
            self._running -= 1
            self._condition.notify_all()

    # Public API.
    def submit(self, spec, config, data, *, owner: str = "",
               resume: dict | None = None, run: runs.Run | None = None) -> Job:
        """Queue a job on ``data``: a ``DataSource``, a function returning one (or the data),
        called in the job's server thread once it has a slot, or the data itself. In demo mode:
        LimitError when the config is over a cap or the visitor already has ``max_per_visitor``
        jobs queued or running."""
        if self.limits.enabled:
            config = demo.apply(self.limits, config)
            mine = [j for j in self._jobs.values() if j.owner == owner and j.is_active]
            if len(mine) >= self.limits.max_per_visitor:
                raise demo.LimitError(_(
                    "you already have {count} job(s) queued or running on this shared demo (the "
                    "limit is {limit}); stop it or wait for it to end").format(
                    count=len(mine), limit=self.limits.max_per_visitor))
            self.touch(owner)
        if run is None:
            run = runs.create(spec.name, config, owner=owner)
            if not callable(data) or isinstance(data, DataSource):   # in words, for its card
                run.set_status(data=cards.data_label(data, dataclasses.asdict(config)))
        job = Job(id=f"job{next(self._ids)}", model=spec.name, config=config, run=run, owner=owner,
                  backend=self.backend, source=data)
        if resume is not None:
            job.rows = [list(row) for row in resume.get("metrics", [])]
            job.step = job.start_step = int(resume.get("step", 0))
        with self._condition:
            self._jobs[job.id] = job
            self._waiting.append(job.id)
        thread = threading.Thread(target=self._work, args=(job, spec, data, resume),
                                  name=f"dlstudio-{job.id}", daemon=True)
        thread.start()
        return job

    def stop(self, job_id: str) -> None:
        job = self._jobs.get(job_id)
        if job is not None:
            job.stop_event.set()
            if job.handle is not None:
                job.handle.stop()
            with self._condition:
                self._condition.notify_all()

    def get(self, job_id: str | None) -> Job | None:
        return self._jobs.get(job_id) if job_id else None

    def active_for(self, owner: str, model: str) -> Job | None:
        """The newest queued or running job of ``owner`` on ``model`` (a reloaded tab finds it)."""
        mine = [job for job in self._jobs.values()
                if job.owner == owner and job.model == model and job.is_active]
        return max(mine, key=lambda job: job.created) if mine else None

    def active_for_run(self, run_id: str) -> Job | None:
        return next((job for job in self._jobs.values()
                     if job.run.id == run_id and job.is_active), None)

    def restart(self, job: Job, spec, changes: dict, before_step: int, data=None, *,
                from_scratch: bool = False, owner: str = "", note: str = "") -> Job:
        """A remedy: stop ``job`` (when it still runs) and start a new run with ``changes``, from
        the last snapshot taken at or before ``before_step`` (a problem's start), or from step 0
        when there is none or the change alters a layer's shape (``from_scratch``). ``data`` as
        for ``submit``; by default what ``job`` trained on."""
        self.stop(job.id)
        self.wait(job, timeout=10)
        config = from_dict(spec.config_cls, {**dataclasses.asdict(job.config), **changes})
        snapshot = None if from_scratch else job.run.snapshot_before(before_step)
        resume = checkpoints.load(snapshot, expected_model=spec.name) if snapshot else None
        restarted = self.submit(spec, config, job.source if data is None else data,
                                owner=owner or job.owner, resume=resume)
        message = _("restarted from {run} at step {step} with: {note}").format(
            run=job.run.id, step=resume["step"] if resume else 0, note=note)
        # restart_message: the page knows the message for a restart's in any language
        restarted.run.set_status(message=message, restart_message=message)
        return restarted

    def wait(self, job: Job, timeout: float = 60.0) -> Job:
        """Block until ``job`` ends (for the CLI and tests)."""
        deadline = time.time() + timeout
        while job.is_active and time.time() < deadline:
            time.sleep(0.02)
        return job

    def request(self, job: Job, data, resume: dict | None) -> JobRequest:
        """What the job's process needs to train ``job``."""
        isolated = self.backend != "thread"
        return JobRequest(model=job.model, config=job.config, data=data,
                          run_folder=str(job.run.folder), resume=resume,
                          threads=job_threads(self.max_concurrent) if isolated else 0,
                          nice=job_priority() if isolated else 0,
                          env=settings_of_this_server() if isolated else {},
                          backend=self.backend)

    def _work(self, job: Job, spec, data, resume: dict | None) -> None:
        i18n.use(job.language)    # this thread's messages (and a thread-run job's) speak it
        if not self._acquire(job):
            job.state, job.message, job.ended = "stopped", _("cancelled while queued"), time.time()
            job.run.set_status(status="stopped", message=job.message)
            return
        job.state, job.started = "running", time.time()
        died = None
        try:
            if callable(data) and not isinstance(data, DataSource):
                data = data()   # (the old way: the page's loader, called here)
            if isinstance(data, DataSource):
                data.check()
            died = self.launcher.run(job, spec, self.request(job, data, resume),
                                     lambda event: self._apply(job, event))
        except Exception as error:  # a crash must end the job visibly, never kill the app
            job.state, job.message = "failed", f"{type(error).__name__}: {error}"
            job.run.set_status(status="failed", message=job.message,
                               traceback=traceback.format_exc()[-2000:])
        finally:
            job.ended = time.time()
            if job.state == "running" and died:   # the job's process died mid-run
                self._mark_died(job, died)
            elif job.state == "running":  # the loop ended without a final event
                job.state = "stopped"
            if job.state == "stopped" and job.stop_reason:
                job.run.set_status(message=job.stop_reason)
            self._release()

    @staticmethod
    def _mark_died(job: Job, reason: str) -> None:
        """The run is failed with the reason; its last checkpoint stays for Resume."""
        has_checkpoint = job.run.checkpoint_path.exists()
        saved = job.run.status.get("checkpoint_step", 0) if has_checkpoint else None
        kept = (_("last checkpoint: step {step:,}").format(step=saved) if saved is not None
                else _("no checkpoint yet"))
        job.state = "failed"
        job.message = _("The training process {reason} at step {step:,} ({kept})").format(
            reason=reason, step=job.step, kept=kept)
        job.run.set_status(status="failed", message=job.message, step=job.step)

    @staticmethod
    def _apply(job: Job, event) -> None:
        if isinstance(event, events.Started):
            job.total_steps, job.step = event.total_steps, event.start_step
            job.start_step, job.started = event.start_step, time.time()
        elif isinstance(event, events.Metrics):
            job.step = event.step
            job.rows.extend([event.step, round(event.epoch, 4), name, value]
                            for name, value in event.values.items())
        elif isinstance(event, events.Samples):
            job.samples.append((event.step, event.images))
            del job.samples[:-MAX_SAMPLE_GRIDS]
        elif isinstance(event, events.Finished):
            job.step, job.final, job.evaluation = event.step, event.values, event.evaluation
            job.state = "finished"
        elif isinstance(event, events.Stopped):
            if job.stop_reason:   # on disk before the job reads as ended
                job.run.set_status(message=job.stop_reason)
            job.step, job.state = event.step, "stopped"
            job.message = job.stop_reason or event.reason
        elif isinstance(event, events.Failed):
            job.step, job.state, job.message = event.step, "failed", event.message


_manager: JobManager | None = None
_manager_lock = threading.Lock()


def manager() -> JobManager:
    """The process-wide job manager (one per Streamlit server)."""
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = JobManager(limits=demo.from_environment())
            runs.mark_interrupted()
        return _manager
