"""A model page: controls, Train/Stop, live view, results, checkpoints (classifiers and GANs)."""
from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from core import checkpoints, runs
from core.data.text import CorpusError
from core.demo import LimitError
from core.data import images_status
from core.data.fashion_mnist import HOW_TO_GET, DataUnavailable
from core.jobs import manager
from core.registry import MODELS
from core.runs import METRIC_COLUMNS
from ui import datasets, results, state
from ui.forms import config_form

POLL_SECONDS = 1.0


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def _view_key(model: str) -> str:
    return f"{model}.view"


def open_view(model: str, kind: str, value) -> None:
    """What the page shows: ("job", id), ("run", id), ("shipped", None) or ("upload", payload)."""
    st.session_state[_view_key(model)] = (kind, value)


def render(model: str) -> None:
    spec = MODELS[model]
    state.seen()
    st.title(spec.title)
    st.caption(spec.summary)
    available, where = images_status()
    if not available:
        st.warning("**Fashion-MNIST is not on this machine yet.** Training will try torchvision's "
                   "download; the shipped checkpoint works without it.\n\n" + HOW_TO_GET)
    controls, view = st.columns([1, 2.6], gap="large")
    with controls:
        _controls(spec)
    with view:
        if spec.task == "gan":
            from ui import gan_views
            _view(spec, gan_views.job_view, gan_views.run_view, gan_views.checkpoint_view)
        else:
            _view(spec, _job_view, _run_view, _checkpoint_view)


def _controls(spec) -> None:
    jobs = manager()
    current = st.session_state.get(_view_key(spec.name))
    job = jobs.get(current[1]) if current and current[0] == "job" else None
    if spec.task == "gan":
        datasets.picker(spec)
    config, error = config_form(spec, spec.name)
    if error:
        st.error(error)
    if st.session_state.get(f"{spec.name}.start_error"):
        st.error(st.session_state.pop(f"{spec.name}.start_error"))
    train_column, stop_column = st.columns(2)
    is_active = job is not None and job.is_active
    if train_column.button("Train", type="primary", disabled=config is None or is_active,
                           key=f"{spec.name}.train", width="stretch"):
        start_job(spec, config)
    if stop_column.button("Stop", disabled=not is_active, key=f"{spec.name}.stop", width="stretch"):
        stop_and_wait(job)

    st.divider()
    shipped = state.shipped_path(spec.name)
    if st.button("Load pretrained", key=f"{spec.name}.pretrained", disabled=not shipped.exists(),
                 width="stretch", help="the checkpoint shipped in checkpoints/: results at once"):
        open_view(spec.name, "shipped", None)
        st.rerun()
    upload = st.file_uploader("Open a checkpoint (.pt)", type=["pt", "pth", "ckpt"],
                              key=f"{spec.name}.upload")
    if upload is not None and st.session_state.get(f"{spec.name}.upload_seen") != upload.file_id:
        st.session_state[f"{spec.name}.upload_seen"] = upload.file_id
        try:
            too_big = state.upload_too_big(upload.size)
            if too_big:
                raise checkpoints.CheckpointError(too_big)
            payload = checkpoints.load(upload.getvalue(), expected_model=spec.name)
            open_view(spec.name, "upload", {"name": upload.name, "payload": payload,
                                            "bytes": upload.getvalue()})
            st.rerun()
        except checkpoints.CheckpointError as error:
            st.session_state[f"{spec.name}.upload_error"] = f"{upload.name}: {error}"
    if st.session_state.get(f"{spec.name}.upload_error"):
        st.error("Checkpoint refused — " + st.session_state[f"{spec.name}.upload_error"])
        if upload is None:
            st.session_state.pop(f"{spec.name}.upload_error")


def _view(spec, job_view, run_view, checkpoint_view) -> None:
    current = st.session_state.get(_view_key(spec.name))
    if current is None:
        if state.shipped_path(spec.name).exists():
            st.info("Press **Train** to train with the settings on the left and watch it learn, or "
                    "**Load pretrained** to see a fully trained model at once.")
        else:
            st.info("Press **Train** to train with the settings on the left.")
        return
    kind, value = current
    if kind == "job":
        job = manager().get(value)
        if job is None:
            st.warning("That training job belongs to an earlier server process; open its run "
                       "from the Workspace page.")
            return
        job_view(spec, job)
    elif kind == "run":
        run_view(spec, value)
    elif kind == "shipped":
        path = state.shipped_path(spec.name)
        try:
            payload = state.load_checkpoint_file(path)
        except checkpoints.CheckpointError as error:
            st.error(f"The shipped checkpoint cannot be read: {error}")
            return
        checkpoint_view(spec, payload, path.read_bytes(), f"shipped checkpoint {path.name}")
    elif kind == "upload":
        checkpoint_view(spec, value["payload"], value["bytes"], f"uploaded {value['name']}")


def config_caption(config: dict, spec) -> str:
    defaults = spec.config_cls()
    changed = {k: v for k, v in config.items() if getattr(defaults, k, v) != v}
    shown = ", ".join(f"{k}={v}" for k, v in changed.items()) or "the tutorial's settings"
    return f"Settings: {shown}"


def _checkpoint_view(spec, payload: dict, raw: bytes, label: str) -> None:
    metrics = pd.DataFrame(payload.get("metrics", []), columns=METRIC_COLUMNS)
    st.subheader(f"Results — {label}")
    st.caption(f"Step {payload['step']:,} · " + config_caption(payload["config"], spec))
    st.download_button("Download checkpoint", raw, file_name=f"{spec.name}.pt",
                       key=f"{spec.name}.download.ckpt")
    results.curves(metrics, spec, f"{spec.name}.ckpt")
    if payload.get("evaluation"):
        results.evaluation_panel(payload["evaluation"], spec, f"{spec.name}.ckpt")
    else:
        st.info("This checkpoint holds no final evaluation (it was saved mid-run).")


def load_run(run_id: str):
    try:
        return runs.get(run_id)
    except KeyError as error:
        st.warning(str(error))
        return None


def run_header(spec, run) -> dict | None:
    """Status, message, download and Resume of a run on disk; returns its checkpoint or None."""
    status = run.status
    st.subheader(f"Run {run.id}")
    st.caption(f"Status: **{status.get('status')}** · step {status.get('step', 0):,} · "
               + config_caption(run.info["config"], spec))
    if status.get("message"):
        (st.error if status.get("status") == "failed" else st.info)(status["message"])
    payload = None
    if run.checkpoint_path.exists():
        try:
            payload = state.load_checkpoint_file(run.checkpoint_path)
        except checkpoints.CheckpointError as error:
            st.error(f"The run's checkpoint cannot be read: {error}")
    if payload is not None:
        st.download_button("Download checkpoint", run.checkpoint_path.read_bytes(),
                           file_name=f"{run.id}.pt", key=f"{spec.name}.download.run")
        if status.get("status") in ("stopped", "failed", "interrupted") and \
                manager().active_for_run(run.id) is None:
            if st.button(f"Resume from step {payload['step']:,}", key=f"{spec.name}.resume"):
                resume_run(spec, run, payload)
    return payload


def _run_view(spec, run_id: str) -> None:
    run = load_run(run_id)
    if run is None:
        return
    payload = run_header(spec, run)
    results.curves(run.metrics(), spec, f"{spec.name}.run")
    if payload is not None and payload.get("evaluation"):
        results.evaluation_panel(payload["evaluation"], spec, f"{spec.name}.run")


def stop_and_wait(job) -> None:
    """Stop: the job stops within one step; redraw once it has."""
    manager().stop(job.id)
    deadline = time.time() + 5
    while job.is_active and time.time() < deadline:
        time.sleep(0.05)
    st.rerun()


def load_data(spec, config):
    """A page's training data, from the process-wide caches of the script thread."""
    if spec.task == "gan":
        return datasets.load(spec)
    if spec.task == "language_model":
        from ui.lm_page import corpus_for
        return corpus_for(config.corpus, config.level, config.min_count)
    return state.images()


def start_job(spec, config, resume: dict | None = None, run=None, note: str = ""):
    """Load the data here in the script thread (Streamlit's caches belong to it), then queue."""
    try:
        data = load_data(spec, config)
    except (DataUnavailable, CorpusError) as error:
        st.session_state[f"{spec.name}.start_error"] = str(error)
        st.rerun()
    try:
        job = manager().submit(spec, config, lambda: data, owner=state.owner(), resume=resume,
                               run=run)
    except LimitError as error:
        st.session_state[f"{spec.name}.start_error"] = str(error)
        st.rerun()
    if note:
        job.run.set_status(message=note)
    open_view(spec.name, "job", job.id)
    st.rerun()


def resume_run(spec, run, payload: dict) -> None:
    from core.config import from_dict
    start_job(spec, from_dict(spec.config_cls, payload["config"], strict=False), payload, run)


LONG_RUN_S = 3600


def job_status(job, spec) -> None:
    """Queue place, progress with steps/s and ETA, or how the run ended."""
    state.seen()  # the live poll runs every second while the tab is open
    position = manager().queue_position(job)
    if job.state == "queued":
        wait = manager().wait_estimate(job)
        estimate = f"; it should start in about {format_eta(wait)}" if wait else ""
        st.info(f"Waiting for a free training slot: place {position or 1} in the queue "
                f"({manager().max_concurrent} job(s) train at a time on this machine){estimate}.")
    elif job.state == "running":
        st.progress(min(job.progress, 1.0),
                    text=f"step {job.step:,} / {job.total_steps:,} · "
                         f"{job.steps_per_s:.1f} steps/s · ETA {format_eta(job.eta_s)}")
        if job.eta_s and job.eta_s > LONG_RUN_S and job.step - job.start_step >= 20:
            st.warning(f"At this speed the run needs about {job.eta_s / 3600:.1f} hours on this "
                       "machine: consider fewer epochs or a smaller model, or Stop it.")
    elif job.state == "finished":
        final = job.final.get("accuracy/test")
        summary = f": test accuracy {final:.2%}" if final is not None else ""
        st.success(f"Finished at step {job.step:,}{summary} in "
                   f"{format_eta((job.ended or time.time()) - (job.started or job.created))}.")
    elif job.state == "stopped":
        st.warning(f"Stopped at step {job.step:,} ({job.message}); the checkpoint at that "
                   "step is kept — resume it from the Runs page.")
    elif job.state == "failed":
        st.error(f"{job.message}. The last good checkpoint and the metrics so far are kept.")


def rerun_when_done(job, spec) -> None:
    """Inside a polling fragment: redraw the whole page once when the job ends."""
    was_active = st.session_state.get(f"{spec.name}.was_active", False)
    st.session_state[f"{spec.name}.was_active"] = job.is_active
    if was_active and not job.is_active:
        st.rerun()


def _job_view(spec, job) -> None:
    st.subheader(f"Run {job.run.id}")

    @st.fragment(run_every=POLL_SECONDS if job.is_active else None)
    def live():
        job_status(job, spec)
        results.curves(job.metrics(), spec, f"{spec.name}.job")
        rerun_when_done(job, spec)

    live()
    if job.state == "finished" and job.evaluation:
        st.download_button("Download checkpoint", job.run.checkpoint_path.read_bytes(),
                           file_name=f"{job.run.id}.pt", key=f"{spec.name}.download.job")
        results.evaluation_panel(job.evaluation, spec, f"{spec.name}.job")
