"""A run on disk: ``runs/<id>/`` with config.json, status.json, metrics.csv and last.pt.

Everything a page shows about a run can be rebuilt from its folder, so runs survive restarts.
"""
from __future__ import annotations

import contextlib
import csv
import fcntl
import dataclasses
import json
import os
import re
import secrets
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core import events
from core.i18n import N_, _
from core.images import grid, png_bytes
from core.paths import runs_root

RUN_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[a-z0-9_]+-[0-9a-f]{6}$")
METRIC_COLUMNS = ["step", "epoch", "name", "value"]
# Stored in status.json in English (whoever reads it later may read another language): the
# page that shows a run's message translates it with ``_()``.
INTERRUPTED = N_("the app stopped during this run; resume it from its checkpoint")


def _write_json(path: Path, value: dict) -> None:
    """Write, then rename over ``path``: a reader never sees half a file. The temporary name is
    the writer's own (process and thread), so two writers of one file (the server and a job's
    thread or process) never rename each other's."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_text(json.dumps(value, indent=1, default=str))
    os.replace(temporary, path)


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive advisory lock (``fcntl.flock``) across processes and threads: each entry
    opens its own file description, so two threads of one process exclude each other too."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class Run:
    folder: Path

    @property
    def id(self) -> str:
        return self.folder.name

    @property
    def checkpoint_path(self) -> Path:
        return self.folder / "last.pt"

    @property
    def info(self) -> dict:
        return json.loads((self.folder / "config.json").read_text())

    def sample_files(self) -> list[Path]:
        return sorted((self.folder / "samples").glob("step_*.png"))

    def snapshots(self) -> list[Path]:
        return sorted((self.folder / "snapshots").glob("step_*.pt"))

    def snapshot_before(self, step: int) -> Path | None:
        """The newest snapshot taken at or before ``step`` (a problem's start), or None."""
        earlier = [path for path in self.snapshots()
                   if int(path.stem.split("_")[1]) <= max(step, 0)]
        return earlier[-1] if earlier else None

    @property
    def status(self) -> dict:
        try:
            return json.loads((self.folder / "status.json").read_text())
        except (OSError, ValueError):
            return {"status": "unknown"}

    def set_status(self, **changes) -> None:
        """Read, change and write status.json under an exclusive lock on ``status.lock``: the
        server and a job's process both update it, and without the lock one's read-modify-write
        could drop the other's change (a lost update)."""
        with _locked(self.folder / "status.lock"):
            status = self.status
            status.update(changes, updated=time.time())
            _write_json(self.folder / "status.json", status)

    def append_metrics(self, rows: list[list]) -> None:
        with open(self.folder / "metrics.csv", "a", newline="") as handle:
            csv.writer(handle).writerows(rows)

    def metrics(self) -> pd.DataFrame:
        """Metrics in long form: step, epoch, name, value."""
        path = self.folder / "metrics.csv"
        if not path.exists():
            return pd.DataFrame(columns=METRIC_COLUMNS)
        frame = pd.read_csv(path, names=METRIC_COLUMNS, header=0, on_bad_lines="skip")
        return frame.dropna(subset=["step", "value"])


def create(model: str, config, owner: str = "", note: str = "") -> Run:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = runs_root() / f"{stamp}-{model}-{secrets.token_hex(3)}"
    folder.mkdir(parents=True)
    _write_json(folder / "config.json", {"model": model, "config": dataclasses.asdict(config),
                                         "created": time.time(), "owner": owner, "note": note})
    (folder / "metrics.csv").write_text(",".join(METRIC_COLUMNS) + "\n")
    run = Run(folder)
    run.set_status(status="queued", step=0, message="")
    return run


def get(run_id: str) -> Run:
    if not RUN_ID.match(run_id or ""):
        raise KeyError(_("not a run id: {id!r}").format(id=run_id))
    folder = runs_root() / run_id
    if not (folder / "config.json").exists():
        raise KeyError(_("no such run: {id}").format(id=run_id))
    return Run(folder)


def list_runs(owner: str | None = None) -> list[Run]:
    """Runs, newest first; only ``owner``'s when given."""
    root = runs_root()
    if not root.exists():
        return []
    found = []
    for folder in sorted(root.iterdir(), reverse=True):
        if RUN_ID.match(folder.name) and (folder / "config.json").exists():
            run = Run(folder)
            try:
                if owner is None or run.info.get("owner", "") == owner:
                    found.append(run)
            except (OSError, ValueError):
                continue
    return found


def delete(run_id: str) -> None:
    shutil.rmtree(get(run_id).folder)


_write_lock = threading.Lock()


def record(run: Run, event) -> None:
    """Write one training event to the run's folder."""
    with _write_lock:
        if isinstance(event, events.Started):
            run.set_status(status="running", pid=os.getpid(), total_steps=event.total_steps,
                           steps_per_epoch=event.steps_per_epoch, device=event.device,
                           parameters=event.parameters, started=time.time())
        elif isinstance(event, events.Metrics):
            run.append_metrics([[event.step, round(event.epoch, 4), name, value]
                                for name, value in event.values.items()])
            run.set_status(step=event.step)
        elif isinstance(event, events.Samples):
            folder = run.folder / "samples"
            folder.mkdir(exist_ok=True)
            (folder / f"step_{event.step:07d}.png").write_bytes(png_bytes(grid(event.images)))
        elif isinstance(event, events.Checkpointed):
            run.set_status(checkpoint_step=event.step)
        elif isinstance(event, events.Finished):
            run.set_status(status="finished", step=event.step, final=event.values, message="",
                           ended=time.time())
        elif isinstance(event, events.Stopped):
            run.set_status(status="stopped", step=event.step, message=event.reason,
                           ended=time.time())
        elif isinstance(event, events.Failed):
            run.set_status(status="failed", step=event.step, message=event.message,
                           ended=time.time())


def _alive(pid) -> bool:
    if not pid or pid == os.getpid():
        return False  # this process has just started: whatever it ran before is gone
    try:
        os.kill(int(pid), 0)
        return True
    except (OSError, ValueError):
        return False


def ran_on(status: dict, with_host: bool = True) -> str:
    """Where a run trained, for the Runs page: "process on <host>", "ray on <node>",
    "torchrun on <host> (2 workers, gloo)"; only the kind without ``with_host`` (a public demo
    does not show its machines' names)."""
    if not with_host:
        return status.get("backend", "")
    return status.get("ran_on") or status.get("backend", "")


def mark_interrupted() -> None:
    """Runs left 'running' by a killed process are marked interrupted (resumable from last.pt).

    A run that trained on another machine (a Ray worker) cannot be looked up by its pid here: a
    new server has lost its connection to such a job, so it counts as interrupted too."""
    here = socket.gethostname()
    for run in list_runs():
        status = run.status
        elsewhere = status.get("host", here) != here
        if status.get("status") in ("running", "queued") and \
                (elsewhere or not _alive(status.get("pid"))):
            run.set_status(status="interrupted", message=INTERRUPTED)
