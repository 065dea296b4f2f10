"""Training jobs on a Ray cluster: the job manager's launcher when ``DLSTUDIO_RAY_ADDRESS`` is set.

Only imported then (``core.jobs.make_launcher``): without an address nothing of Ray is loaded
or started. Install it with ``pip install -r requirements-ray.txt``.

A job is a Ray actor that asks for its CPUs (``DLSTUDIO_RAY_CPUS``, default 1) and GPUs
(``DLSTUDIO_RAY_GPUS``, default 0) and runs the same ``core.worker.run_job`` as a local job's
process. It writes the run's folder itself, so the runs folder must be storage the cluster and
the server share (NFS, a cloud file system, a Kubernetes volume mounted on every pod):
``DLSTUDIO_RAY_RUNS_DIR`` is that folder as the workers see it (default: the server's own path,
when it is mounted at the same place). The actor keeps the events it has not handed over yet;
the server's job thread collects them twice a second, so metrics are live on the page. Stop
sets the actor's flag (the loop stops within one step, checkpoint saved); an actor that has not
started yet, or does not stop within ``STOP_GRACE_S``, is killed. A worker lost to the cluster
(its node gone, the out-of-memory killer) fails the run with Ray's reason.

With ``DLSTUDIO_RAY_WORKERS`` above 1 the job trains data-parallel under Ray Train's
``TorchTrainer``: the same per-worker loop as ``torchrun`` (``core.distributed``), rank 0 sending
the events and writing the run.

Addresses: ``ray://head:10001`` (Ray Client), ``auto`` or ``head:6379`` (on a cluster node), or
``local``: start a Ray instance on this machine (loopback only; ``DLSTUDIO_RAY_LOCAL_CPUS``).
"""
from __future__ import annotations

import dataclasses
import os
import threading
import time
from pathlib import Path

from core.i18n import _
from core.paths import ROOT, runs_root
from core.worker import JobRequest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")   # no usage reports from the server

POLL_S = 0.5
STOP_GRACE_S = 30.0
# What a cluster does not need of the repository when the code is shipped to it.
SHIPPED_EXCLUDES = [".git", ".venv", "runs", "data", "artifacts", "tests", "bench", "*.pyc"]

_lock = threading.Lock()


def settings() -> dict:
    """The cluster settings from the environment."""
    return {"address": os.environ.get("DLSTUDIO_RAY_ADDRESS", "local"),
            "cpus": float(os.environ.get("DLSTUDIO_RAY_CPUS", "1")),
            "gpus": float(os.environ.get("DLSTUDIO_RAY_GPUS", "0")),
            "workers": int(os.environ.get("DLSTUDIO_RAY_WORKERS", "1")),
            "runs": os.environ.get("DLSTUDIO_RAY_RUNS_DIR", ""),
            "ship_code": os.environ.get("DLSTUDIO_RAY_SHIP_CODE", "")}


def connect():
    """Connect to the cluster once per server process (or start a local instance)."""
    address = settings()["address"]
    if address == "local":
        # A single machine: Ray on loopback only, no node address of the network.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray
    with _lock:
        if ray.is_initialized():
            return ray
        ship = settings()["ship_code"]
        ship = ship == "1" if ship else address != "local"
        runtime_env = {"working_dir": str(ROOT), "excludes": SHIPPED_EXCLUDES} if ship \
            else {"env_vars": {"PYTHONPATH": str(ROOT)}}
        options = dict(runtime_env=runtime_env, namespace="dlstudio", log_to_driver=False,
                       ignore_reinit_error=True)
        if address == "local":
            cpus = int(os.environ.get("DLSTUDIO_RAY_LOCAL_CPUS", "0")) or os.cpu_count() or 1
            ray.init(num_cpus=cpus, include_dashboard=False, **options)
        else:
            ray.init(address=address, **options)
        return ray


class Connecting(threading.Event):
    """Set once the connection is made (or failed: ``error``)."""
    error: Exception | None = None


def start_connecting() -> Connecting:
    """Connect from a thread that lives as long as the server: Ray's driver connection stops
    answering once the thread that made it has ended (seen with ray 2.60: ``ray.init`` in a
    Streamlit script thread, an actor made after that thread ended, hung in GCS lookups)."""
    done = Connecting()

    def keep() -> None:
        try:
            connect()
        except Exception as error:   # shown on the first job, not a crash of the server
            done.error = error
            return
        finally:
            done.set()
        threading.Event().wait()

    threading.Thread(target=keep, name="dlstudio-ray-connection", daemon=True).start()
    return done


def cluster_runs_root() -> Path:
    """The runs folder as the cluster's workers see it."""
    return Path(settings()["runs"] or runs_root())


def _job_actor_class():
    """The actor class, made once Ray is imported (``ray.remote`` needs it)."""
    ray = connect()

    @ray.remote(max_concurrency=4)   # threaded: stop() and drain() answer while run() trains
    class JobActor:
        def __init__(self):
            self.events, self.lock = [], threading.Lock()
            self.stop_flag = threading.Event()

        def run(self, request: JobRequest) -> None:
            from core import worker
            worker.enter_process(request)
            worker.run_job(request, self._emit, self.stop_flag.is_set)

        def run_parallel(self, request: JobRequest, workers: int, use_gpu: bool,
                         storage: str) -> None:
            """Data-parallel under Ray Train; this actor only collects rank 0's events."""
            from ray.train import RunConfig, ScalingConfig
            from ray.train.torch import TorchTrainer
            this = ray.get_runtime_context().current_actor
            trainer = TorchTrainer(
                _train_loop_per_worker,
                train_loop_config={"request": request, "events": this},
                scaling_config=ScalingConfig(num_workers=workers, use_gpu=use_gpu,
                                             resources_per_worker={"CPU": max(request.threads, 1)}),
                run_config=RunConfig(name=Path(request.run_folder).name, storage_path=storage))
            trainer.fit()

        def _emit(self, event) -> None:
            with self.lock:
                self.events.append(event)

        def put(self, event) -> None:
            self._emit(event)

        def drain(self) -> list:
            with self.lock:
                events, self.events = self.events, []
            return events

        def stop(self) -> None:
            self.stop_flag.set()

        def stopped(self) -> bool:
            return self.stop_flag.is_set()

        def node(self) -> str:
            import socket
            return f"{socket.gethostname()} ({ray.util.get_node_ip_address()})"

    return JobActor


def _train_loop_per_worker(loop_config: dict) -> None:
    """One Ray Train worker: the torchrun loop, its Stop read from the job's actor."""
    import ray
    from core import distributed, worker
    request, events = loop_config["request"], loop_config["events"]
    worker.enter_process(request)
    group = distributed.current()
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                if ray.get(events.stopped.remote(), timeout=10):
                    stop.set()
            except Exception:
                stop.set()   # the job's actor is gone: nobody is listening any more
            time.sleep(POLL_S)

    threading.Thread(target=watch, daemon=True).start()
    is_main = group is None or group.is_main
    emit = (lambda event: events.put.remote(event)) if is_main else (lambda event: None)
    try:
        worker.run_job(dataclasses.replace(request, backend="ray-train"), emit, stop.is_set,
                       parallel=group, device=distributed.device_of(group))
    finally:
        stop.set()


class RayHandle:
    def __init__(self, actor):
        self.actor, self.stop_asked = actor, None

    def stop(self) -> None:
        self.stop_asked = self.stop_asked or time.time()
        try:
            self.actor.stop.remote()
        except Exception:
            pass


class RayLauncher:
    """Runs a job's ``JobRequest`` as a Ray actor; ``run`` blocks in the job's server thread."""

    name = "ray"

    def prepare(self) -> None:
        """Connect in the background: starting or reaching a cluster takes seconds, and the
        first page render must not wait for it."""
        self.actor_class = None
        self.connected = start_connecting()

    def actor(self, **options):
        """A new job actor; a cluster that could not be reached is tried again here."""
        if not self.connected.wait(120) or self.connected.error is not None:
            error = getattr(self.connected, "error", None)
            self.connected = start_connecting()      # the next job tries again
            raise RuntimeError(_("cannot reach the Ray cluster at {address}: {error}").format(
                address=settings()["address"], error=error or _("no answer in 120 s")))
        if self.actor_class is None:
            self.actor_class = _job_actor_class()
        return self.actor_class.options(**options).remote()

    def request_for_cluster(self, request: JobRequest, folder_name: str) -> JobRequest:
        cpus = settings()["cpus"]
        env = dict(request.env)
        env["DLSTUDIO_RUNS_DIR"] = str(cluster_runs_root())
        env.pop("DLSTUDIO_RAY_ADDRESS", None)
        return dataclasses.replace(request, run_folder=str(cluster_runs_root() / folder_name),
                                   threads=max(1, int(cpus)), nice=0, env=env, backend="ray")

    def run(self, job, spec, request: JobRequest, apply) -> str | None:
        import ray
        from ray.exceptions import RayActorError, RayTaskError, TaskCancelledError
        options = settings()
        request = self.request_for_cluster(request, job.run.id)
        workers = max(1, options["workers"])
        actor_options = {"num_cpus": 0 if workers > 1 else options["cpus"],
                         "num_gpus": 0 if workers > 1 else options["gpus"]}
        actor = self.actor(**actor_options)
        handle = job.handle = RayHandle(actor)
        if job.stop_event.is_set():
            handle.stop()
        if workers > 1:
            storage = str(cluster_runs_root() / "_ray_train")
            finished = actor.run_parallel.remote(request, workers, options["gpus"] > 0, storage)
        else:
            finished = actor.run.remote(request)
        reason = None
        try:
            while True:
                ready, _waiting = ray.wait([finished], timeout=POLL_S)
                for event in ray.get(actor.drain.remote()):
                    apply(event)
                if ready:
                    ray.get(finished)
                    break
                if handle.stop_asked and time.time() - handle.stop_asked > STOP_GRACE_S:
                    ray.kill(actor)
                    reason = _("did not stop within {seconds:.0f} s and was cancelled on "
                               "Ray").format(seconds=STOP_GRACE_S)
                    break
            if reason is None:     # (a killed actor has nothing left to drain)
                for event in ray.get(actor.drain.remote()):
                    apply(event)
        except (RayActorError, TaskCancelledError) as error:
            reason = _("was lost on the Ray cluster ({error})").format(
                error=f"{type(error).__name__}: {str(error)[:300]}")
        except RayTaskError as error:
            reason = _("failed on the Ray cluster: {error}").format(error=str(error)[-300:])
        finally:
            try:
                ray.kill(actor)
            except Exception:
                pass
        return reason
