"""Training off the server: job start latency, a killed job, data-parallel equivalence, Ray vs local.

    python bench/jobs.py latency     # Train -> first metrics of the CNN tutorial preset, a job process
    python bench/jobs.py kill        # SIGKILL a job's process: how soon its run reads failed
    python bench/jobs.py ddp         # torchrun 2 gloo processes vs 1 process, 20 steps, same seed
    python bench/jobs.py ray         # the CNN tutorial preset on a local Ray instance vs locally
    python bench/jobs.py             # all four

Fashion-MNIST when it is on this machine (else --synthetic). Each part prints name=value lines.
Runs go to a temporary folder. Ray parts need `pip install -r requirements-ray.txt`.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def until(condition, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


def first_metrics(jobs, spec, config, source) -> tuple[float, float]:
    """(seconds from submit to the job's Started event, to its first metrics row)."""
    begun = time.perf_counter()
    job = jobs.submit(spec, config, source)
    until(lambda: job.total_steps > 0 or not job.is_active, 120)
    started = time.perf_counter() - begun
    until(lambda: len(job.rows) > 0 or not job.is_active, 120)
    first = time.perf_counter() - begun
    jobs.stop(job.id)
    jobs.wait(job, 60)
    return started, first


def latency(rounds: int) -> None:
    from core import job_process
    from core.config import from_dict
    from core.data.sources import DataSource
    from core.jobs import JobManager
    from core.registry import MODELS
    spec = MODELS["cnn"]
    config = from_dict(spec.config_cls, {})          # the tutorial preset: the defaults
    for method in ("forkserver", "spawn"):
        os.environ["DLSTUDIO_START_METHOD"] = method
        job_process._context = None
        jobs = JobManager(max_concurrent=1, backend="process")
        if method == "forkserver":   # the server warms it when it starts; a cold one, first
            cold = first_metrics(jobs, spec, config, DataSource.images())
            print(f"latency/{method}/cold_first_metrics_s={cold[1]:.2f}", flush=True)
        times = [first_metrics(jobs, spec, config, DataSource.images()) for _ in range(rounds)]
        print(f"latency/{method}/started_s={statistics.median(t[0] for t in times):.2f} "
              f"latency/{method}/first_metrics_s={statistics.median(t[1] for t in times):.2f} "
              f"(median of {rounds}; first metrics = after {config.log_every_steps} steps)",
              flush=True)
    threads = JobManager(max_concurrent=1, backend="thread")
    times = [first_metrics(threads, spec, config, DataSource.images()) for _ in range(rounds)]
    print(f"latency/thread/first_metrics_s={statistics.median(t[1] for t in times):.2f}")


def kill() -> None:
    from core.config import from_dict
    from core.data.sources import DataSource
    from core.jobs import JobManager
    from core.registry import MODELS
    spec = MODELS["cnn"]
    jobs = JobManager(max_concurrent=1, backend="process")
    job = jobs.submit(spec, from_dict(spec.config_cls, {"epochs": 20}), DataSource.images())
    until(lambda: job.step >= 30, 300)
    killed = time.perf_counter()
    os.kill(job.handle.pid, signal.SIGKILL)
    until(lambda: not job.is_active, 30)
    took = time.perf_counter() - killed
    print(f"kill/marked_failed_after_s={took:.3f} state={job.state}")
    print(f"kill/message={job.message!r}")
    print(f"kill/run_status={job.run.status['status']} checkpoint_kept="
          f"{job.run.checkpoint_path.exists()}")
    begun = time.perf_counter()
    after = jobs.submit(spec, from_dict(spec.config_cls, {"epochs": 1, "time_budget_s": 3.0}),
                        DataSource.images())
    jobs.wait(after, 120)
    print(f"kill/next_job={after.state} in {time.perf_counter() - begun:.1f}s")


def ddp(model: str, steps: int) -> None:
    """One process vs two gloo ranks through torchrun, the same global batch and seed."""
    from core import checkpoints, runs
    batch = 100
    count = steps * batch                    # exactly ``steps`` steps of full batches
    flags = [model, "--epochs", "1", "--batch_size", str(batch), "--train_subset", str(count),
             "--log_every_steps", "10", "--seed", "1"]
    env = {**os.environ, "DLSTUDIO_THREADS": "1"}
    folders = []
    for workers in (1, 2):
        before = {run.id for run in runs.list_runs()}
        launcher = [sys.executable] if workers == 1 else [
            str(Path(sys.executable).with_name("torchrun")), "--nproc_per_node", "2",
            "--master_addr", "127.0.0.1", "--master_port", str(free_port())]
        begun = time.perf_counter()
        result = subprocess.run([*launcher, "-m", "core.cli", "train", *flags], cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=900)
        if result.returncode:
            print(result.stdout[-1500:], result.stderr[-1500:])
            raise SystemExit(1)
        took = time.perf_counter() - begun
        (new,) = [run for run in runs.list_runs() if run.id not in before]
        folders.append(new.folder)
        print(f"ddp/{model}/workers={workers} seconds={took:.1f} "
              f"test_accuracy={new.status['final']['accuracy/test']:.4f}", flush=True)
    one, two = (checkpoints.load(folder / "last.pt")["state_dict"]["network"]
                for folder in folders)
    weights = max((one[name].float() - two[name].float()).abs().max().item()
                  for name in one if "running_" not in name and one[name].is_floating_point())
    buffers = [(one[name].float() - two[name].float()).abs().max().item()
               for name in one if "running_" in name]
    print(f"ddp/{model}/max_weight_difference={weights:.2e} over {steps} steps"
          + (f" max_batchnorm_statistics_difference={max(buffers):.2e}" if buffers else ""))


def ray_vs_local() -> None:
    """The CNN tutorial preset on a local Ray instance and in a local job process."""
    os.environ.setdefault("DLSTUDIO_RAY_ADDRESS", "local")
    from core.config import from_dict
    from core.data.sources import DataSource
    from core.jobs import JobManager
    from core.registry import MODELS
    spec = MODELS["cnn"]
    config = from_dict(spec.config_cls, {"seed": 0})
    results = {}
    for backend in ("process", "ray"):
        begun = time.perf_counter()
        jobs = JobManager(max_concurrent=1, backend=backend)
        ready = time.perf_counter() - begun
        job = jobs.submit(spec, config, DataSource.images())
        until(lambda: len(job.rows) > 0, 300)  # noqa: B023 (called at once)
        first = time.perf_counter() - begun - ready
        while job.is_active:   # count how many metric rows arrived while it trained
            live_rows = len(job.rows)
            time.sleep(0.2)
        jobs.wait(job, 3600)
        results[backend] = job.final.get("accuracy/test", float("nan"))
        print(f"ray/{backend} state={job.state} test_accuracy={results[backend]:.4f} "
              f"first_metrics_s={first:.1f} rows_before_the_end={live_rows} of {len(job.rows)} "
              f"seconds={job.ended - job.started:.0f} connect_s={ready:.1f} "
              f"ran_on={job.run.status.get('ran_on')!r}", flush=True)
    print(f"ray/accuracy_difference={abs(results['ray'] - results['process']) * 100:.2f} "
          "percentage points (goal <= 0.3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", nargs="?", default="all",
                        choices=["all", "latency", "kill", "ddp", "ray"])
    parser.add_argument("--synthetic", action="store_true", help="tiny generated data")
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    os.environ.setdefault("DLSTUDIO_RUNS_DIR", tempfile.mkdtemp(prefix="dlstudio-jobs-"))
    if arguments.synthetic:
        os.environ["DLSTUDIO_DATASET"] = "synthetic"
    print(f"cpus={os.cpu_count()} runs={os.environ['DLSTUDIO_RUNS_DIR']}", flush=True)
    if arguments.part in ("all", "latency"):
        latency(arguments.rounds)
    if arguments.part in ("all", "kill"):
        kill()
    if arguments.part in ("all", "ddp"):
        ddp("mlp", 20)
        ddp("cnn", 20)
    if arguments.part in ("all", "ray"):
        ray_vs_local()


if __name__ == "__main__":
    main()
