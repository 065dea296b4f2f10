"""The page shell every model page uses: layout, Train/Stop, the live poll, the run header,
Load pretrained and checkpoint uploads, and the session keys, in one place.

A page is a ``Panel``: its model family's (``ui.classifier_views``, ``ui.gan_views``,
``ui.translation_views``, ``ui.lm_page``; the GAN and image-to-image panels share
``ui.adversarial_views``) or, when a model needs its own widgets, a subclass named by its spec
(``ModelSpec.panel = "ui.panels.<model>:<Class>"``). The skeleton is here once: the controls,
which view is open (``show``: a job, a run, a checkpoint) and each view's frame; a panel fills in
the hooks (``live_view``, ``job_done``, ``run_body``, ``checkpoint_body``…). ``render(model)``
draws a model's page (``ui/pages.py`` makes it the page at the spec's ``url_path``).
"""
from __future__ import annotations

import importlib
import time

import pandas as pd
import streamlit as st

from core import cards, checkpoints, runs
from core.config import from_dict
from core.data import images_status
from core.data.fashion_mnist import HOW_TO_GET, DataUnavailable
from core.data.sources import DataSource
from core.data.text import CorpusError
from core.demo import LimitError
from core.i18n import N_, _
from core.jobs import manager
from core.paths import shipped_checkpoint
from core.registry import MODELS, verified_model
from core.runs import METRIC_COLUMNS
from ui import class_views, links, state
from ui.compare_controls import compare_controls
from ui.forms import config_form, showable

POLL_SECONDS = 1.0
LONG_RUN_S = 3600
FAMILY_PANELS = {"classification": "ui.classifier_views:ClassifierPanel",
                 "gan": "ui.gan_views:GANPanel",
                 "language_model": "ui.lm_page:LanguageModelPanel",
                 "translation": "ui.translation_views:TranslationPanel"}
# The states of a job or a run (``core/jobs.py``, ``core/runs.py``): codes, shown translated.
STATUSES = (N_("queued"), N_("running"), N_("finished"), N_("stopped"), N_("failed"),
            N_("interrupted"))


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes:
        return _("{minutes} min {seconds:02d} s").format(minutes=minutes, seconds=seconds)
    return _("{seconds} s").format(seconds=seconds)


def status_text(code) -> str:
    """A job's or a run's state as a visitor reads it (the code itself stays English)."""
    return _(code) if code in STATUSES else code


def panel_for(spec) -> "Panel":
    """The spec's own panel class, or its family's."""
    module, _sep, name = (spec.panel or FAMILY_PANELS[spec.family]).partition(":")
    return getattr(importlib.import_module(module), name)(spec)


def render(model: str) -> None:
    """A model's page (each model's ``st.Page`` in ``ui/pages.py`` calls it)."""
    state.seen()
    panel = panel_for(MODELS[model])
    links.read_link(panel)     # a link's settings, before any widget is drawn
    panel.render()


def open_view(model: str, kind: str, value) -> None:
    """What a page shows: ("job", id), ("run", id), ("shipped", None) or ("upload", payload)."""
    st.session_state[f"{model}.view"] = (kind, value)


def config_caption(config: dict, spec) -> str:
    defaults = spec.config_cls()
    changed = {k: v for k, v in config.items() if getattr(defaults, k, v) != v}
    shown = ", ".join(f"{k} {cards.setting_text(k, v)}" if k == "time_budget_s" else f"{k}={v}"
                      for k, v in changed.items()) or _("the tutorial's settings")
    return _("Settings: {settings}").format(settings=shown)


def load_run(run_id: str):
    try:
        return runs.get(run_id)
    except KeyError as error:
        st.warning(str(error))
        return None


class Panel:
    """A model page. Subclasses fill in the views; the shell keeps the controls and the jobs."""

    upload_types = ["pt", "pth", "ckpt"]

    def __init__(self, spec):
        self.spec = spec
        self.name = spec.name

    def key(self, *parts: str) -> str:
        """A session-state key of this page: "<model>.<part>...". Every key is made here."""
        return ".".join((self.name, *parts))

    # Data ----------------------------------------------------------------------------------------
    def load_data(self, config):
        """What a job of this page trains on: a ``DataSource``, the description its own process
        (or a cluster worker) loads; the model's default here. (Returning the data itself still
        works on this machine: it is sent to the job's process by value through its pipe.)"""
        return DataSource.for_spec(self.spec)

    def data_controls(self) -> None:
        """Widgets above the settings that choose the data (a GAN's dataset picker)."""

    def data_warning(self) -> None:
        available, _where = images_status()
        if not available:
            st.warning(_("**Fashion-MNIST is not on this machine yet.** Training will try "
                         "torchvision's download; the shipped checkpoint works without it.")
                       + "\n\n" + _(HOW_TO_GET))

    # Layout --------------------------------------------------------------------------------------
    def render(self) -> None:
        st.title(_(self.spec.title))
        st.caption(_(self.spec.summary))
        self.data_warning()
        controls, view = st.columns([1.5, 2.5], gap="medium")   # preset names fit (~400 px)
        with controls:
            self.controls()
        with view:
            self.view()
        self.after()

    def after(self) -> None:
        """Sections below the page's two columns (BEGAN's side-by-side)."""

    def current_job(self):
        current = st.session_state.get(self.key("view"))
        return manager().get(current[1]) if current and current[0] == "job" else None

    def controls(self) -> None:
        self.data_controls()
        config = self.settings()
        self.train_stop(config)
        compare_controls(self, config)
        st.divider()
        shipped = shipped_checkpoint(self.name)
        if st.button(_("Load pretrained"), key=self.key("pretrained"),
                     disabled=not shipped.exists(), width="stretch",
                     help=_("the checkpoint shipped in checkpoints/: results at once")):
            open_view(self.name, "shipped", None)
            self.show_settings_of(state.load_checkpoint_file(shipped), _("the shipped model"))
            st.rerun()
        self.checkpoint_upload(_("Open a checkpoint (.pt)"), "upload")

    def follow(self, changes: dict, reason: str, loaded: bool = False) -> None:
        """Make the form show ``changes`` from the next page run on (a remedy restarted the run
        with them, or a model was loaded). Widget values can only be set before the widgets are
        drawn, so they wait. ``reason`` is shown through ``_()``: a remedy's (English, marked)
        label, or words already translated."""
        st.session_state[self.key("pending")] = {"changes": dict(changes), "reason": reason,
                                                 "loaded": loaded}

    def show_settings_of(self, payload: dict, what: str) -> None:
        """The form shows a loaded model's settings (those its widgets can show), and the preset
        box says they are custom: Train then starts from the model's settings."""
        config = payload.get("config")
        if isinstance(config, dict):
            self.follow(showable(self.spec, config), what, loaded=True)

    def link_opened(self, link) -> None:
        """A link set this page's settings (``link.values``); a page whose own widgets hold a
        setting (a language model's corpus) sets them here."""

    def settings(self):
        """The config form; shows why a config is refused. Returns the config or None. The URL
        follows the form (``ui/links.py``)."""
        links.show_notices(self)
        pending = st.session_state.pop(self.key("pending"), None)
        if pending:
            for name, value in pending["changes"].items():
                st.session_state[self.key("field", name)] = value
            st.session_state[self.key("changed_by")] = pending
        config, error = config_form(self.spec, self.name)
        changed = st.session_state.get(self.key("changed_by"))
        if changed and config is not None and all(
                getattr(config, name) == value for name, value in changed["changes"].items()):
            reason = changed["reason"]     # (a variable: Babel would extract a literal key)
            if changed.get("loaded"):
                st.caption(_("The settings of {what}, so you see how it was made; Train starts "
                             "from them. Pick a preset to start from one.").format(
                                 what=_(reason)))
            else:
                shown = ", ".join(f"{name} = {value:g}" if isinstance(value, float)
                                  else f"{name} = {value}"
                                  for name, value in changed["changes"].items())
                st.caption(_("Changed by the remedy *{remedy}* ({settings}): these are the "
                             "settings of the restarted run, not the preset's.").format(
                                 remedy=_(reason), settings=shown))
        elif changed:
            st.session_state.pop(self.key("changed_by"), None)
        if error:
            st.error(error)
        if config is not None:
            links.copy_link(self, links.write_link(self, config))
        if st.session_state.get(self.key("start_error")):
            st.error(st.session_state.pop(self.key("start_error")))
        return config

    def train_stop(self, config, disabled: bool = False) -> None:
        job = self.current_job()
        is_active = job is not None and job.is_active
        train_column, stop_column = st.columns(2)
        if train_column.button(_("Train"), type="primary", key=self.key("train"), width="stretch",
                               disabled=config is None or is_active or disabled):
            self.start_job(config)
        if stop_column.button(_("Stop"), disabled=not is_active, key=self.key("stop"),
                              width="stretch"):
            self.stop_and_wait(job)

    def check_upload(self, payload: dict) -> None:
        """Raise when an uploaded checkpoint of this model cannot be used (default: any can)."""

    def opened_upload(self, name: str, payload: dict, raw: bytes) -> None:
        open_view(self.name, "upload", {"name": name, "payload": payload, "bytes": raw})
        self.show_settings_of(payload, _("the opened file {name}").format(name=name))

    def checkpoint_upload(self, label: str, part: str) -> None:
        """An uploader that refuses what is not this model's checkpoint, with the reason.
        ``label`` is shown through ``_()`` (a caller marks its literal)."""
        upload = st.file_uploader(_(label), type=self.upload_types, key=self.key(part),
                                  max_upload_size=state.upload_cap_mb())
        seen, error_key = self.key(part, "seen"), self.key(part, "error")
        if upload is not None and st.session_state.get(seen) != upload.file_id:
            st.session_state[seen] = upload.file_id
            try:
                too_big = state.upload_too_big(upload.size)
                if too_big:
                    raise checkpoints.CheckpointError(too_big)
                payload = checkpoints.load(upload.getvalue(), expected_model=self.name)
                verified_model(payload)       # shapes, settings, stored figures: or refused
                self.check_upload(payload)
                st.session_state.pop(error_key, None)
                self.opened_upload(upload.name, payload, upload.getvalue())
                st.rerun()
            except (checkpoints.CheckpointError, ValueError, KeyError, RuntimeError,
                    IndexError, TypeError) as error:
                st.session_state[error_key] = f"{upload.name}: {error}"
        if st.session_state.get(error_key):
            st.error(_("Checkpoint refused — {reason}").format(
                reason=st.session_state[error_key]))
            if upload is None:
                st.session_state.pop(error_key)

    # Views: what the page shows right of the controls -------------------------------------------
    def view(self) -> None:
        current = st.session_state.get(self.key("view"))
        if current is None:   # a reloaded tab: the visitor's job still trains, show it
            job = manager().active_for(state.owner(), self.name)
            if job is not None:
                open_view(self.name, "job", job.id)
                current = ("job", job.id)
        if current is None:
            if shipped_checkpoint(self.name).exists():
                st.info(_("Press **Train** to train with the settings on the left and watch it "
                          "learn, or **Load pretrained** to see a fully trained model at once."))
            else:
                st.info(_("Press **Train** to train with the settings on the left."))
            return
        self.show(current)

    def show(self, current: tuple) -> None:
        """The view ``open_view`` chose: a job, a run on disk, the shipped checkpoint, an upload."""
        kind, value = current
        if kind == "job":
            job = manager().get(value)
            if job is None:
                st.warning(_("That training job belongs to an earlier server process; open its "
                             "run from the Runs page."))
                return
            self.job_view(job)
        elif kind == "run":
            self.run_view(value)
        elif kind == "shipped":
            path = shipped_checkpoint(self.name)
            try:
                payload = state.load_checkpoint_file(path)
            except checkpoints.CheckpointError as error:
                st.error(_("The shipped checkpoint cannot be read: {error}").format(error=error))
                return
            self.checkpoint_view(payload, path.read_bytes(),
                                 _("shipped checkpoint {name}").format(name=path.name))
        elif kind == "upload":
            self.checkpoint_view(value["payload"], value["bytes"],
                                 _("uploaded {name}").format(name=value["name"]))

    def job_view(self, job) -> None:
        """A job of this page: its heading, then what it shows while it trains, redrawn every
        ``POLL_SECONDS`` until it ends, then Resume (or Post) and what a finished job adds."""
        self.job_heading(job)

        @st.fragment(run_every=POLL_SECONDS if job.is_active else None)
        def live():
            self.job_status(job)
            self.live_view(job)
            self.rerun_when_done(job)

        live()
        self.resume_here(job)
        self.job_done(job)

    def job_heading(self, job) -> None:
        st.subheader(_("Run {run}").format(run=job.run.id))

    def live_view(self, job) -> None:
        """Under the job's status line, redrawn while it trains: its figures so far."""
        raise NotImplementedError

    def job_done(self, job) -> None:
        """Below a job once the live part is drawn (the finished model's views)."""

    def run_view(self, run_id: str) -> None:
        """A run on disk: its header (status, download, Resume), then ``run_body``."""
        run = load_run(run_id)
        if run is None:
            return
        self.run_body(run, self.run_header(run))

    def run_body(self, run, payload: dict | None) -> None:
        """A run's figures; ``payload`` is its checkpoint (None when it has none)."""
        raise NotImplementedError

    def checkpoint_view(self, payload: dict, raw: bytes, label: str) -> None:
        """A checkpoint (shipped or uploaded): heading, step and settings, download, the body."""
        st.subheader(self.checkpoint_title(label))
        st.caption(_("Step {step:,} · {settings}").format(
            step=payload["step"], settings=config_caption(payload["config"], self.spec)))
        st.download_button(_("Download checkpoint"), raw, file_name=f"{self.name}.pt",
                           key=self.key("download", "ckpt"))
        self.checkpoint_body(payload)

    def checkpoint_title(self, label: str) -> str:
        return f"{_(self.spec.title)} — {label}"

    def checkpoint_body(self, payload: dict) -> None:
        raise NotImplementedError

    # Jobs ----------------------------------------------------------------------------------------
    def start_job(self, config, resume: dict | None = None, run=None, note: str = "") -> None:
        """Describe the data (the job's process loads it), check what can be checked here, queue."""
        try:
            data = self.load_data(config)
            if isinstance(data, DataSource):
                data.check()
        except (DataUnavailable, CorpusError) as error:
            st.session_state[self.key("start_error")] = str(error)
            st.rerun()
        try:
            job = manager().submit(self.spec, config, data, owner=state.owner(),
                                   resume=resume, run=run)
        except LimitError as error:
            st.session_state[self.key("start_error")] = str(error)
            st.rerun()
        if note:
            job.run.set_status(message=note)
        open_view(self.name, "job", job.id)
        st.rerun()

    def resume_run(self, run, payload: dict) -> None:
        self.start_job(from_dict(self.spec.config_cls, payload["config"], strict=False), payload,
                       run)

    @staticmethod
    def stop_and_wait(job) -> None:
        """Stop: the job stops within one step; the page's live poll shows it stopping and
        redraws the page once it has (the script thread does not wait for it)."""
        manager().stop(job.id)
        st.rerun()

    def job_status(self, job) -> None:
        """Queue place, progress with steps/s and ETA, or how the run ended."""
        state.seen()  # the live poll runs every second while the tab is open
        position = manager().queue_position(job)
        if job.state == "queued":
            wait = manager().wait_estimate(job)
            slots = manager().max_concurrent
            if wait:
                st.info(_("Waiting for a free training slot: place {place} in the queue ({slots} "
                          "job(s) train at a time on this machine); it should start in about "
                          "{wait}.").format(place=position or 1, slots=slots,
                                            wait=format_eta(wait)))
            else:
                st.info(_("Waiting for a free training slot: place {place} in the queue ({slots} "
                          "job(s) train at a time on this machine).").format(
                              place=position or 1, slots=slots))
        elif job.state == "running":
            if job.budget_binds:   # the time budget ends it: say so, not the steps it won't reach
                budget = job.config.time_budget_s
                text = _("step {step:,} · {speed:.1f} steps/s · {left} left of its {budget} "
                         "time budget").format(step=job.step, speed=job.steps_per_s,
                                               left=format_eta(job.budget_left_s),
                                               budget=format_eta(budget))
            else:
                text = _("step {step:,} / {total:,} · {speed:.1f} steps/s · ETA {eta}").format(
                    step=job.step, total=job.total_steps, speed=job.steps_per_s,
                    eta=format_eta(job.eta_s))
            st.progress(min(job.progress, 1.0), text=text)
            if job.eta_s and job.eta_s > LONG_RUN_S and job.step - job.start_step >= 20:
                st.warning(_("At this speed the run needs about {hours:.1f} hours on this "
                             "machine: consider fewer epochs or a smaller model, or Stop "
                             "it.").format(hours=job.eta_s / 3600))
        elif job.state == "finished":
            took = (job.ended or time.time()) - (job.started or job.created)
            st.success(_("Finished at step {step:,}{summary} in {time}.").format(
                step=job.step, summary=self.final_summary(job.final), time=format_eta(took)))
        elif job.state == "stopped" and job.started is None:
            st.warning(_("Cancelled while it waited in the queue: it had not started, so there "
                         "is nothing to keep. Press Train to queue it again."))
        elif job.state == "stopped":
            st.warning(_("Stopped at step {step:,} ({reason}); the checkpoint at that step is "
                         "kept: **Resume** below continues the run.").format(
                             step=job.step, reason=job.message))
        elif job.state == "failed":
            st.error(_("{message}. The last good checkpoint and the metrics so far are "
                       "kept.").format(message=job.message))

    def resume_here(self, job) -> None:
        """Under a stopped or failed job: continue it from its checkpoint. (Under a finished
        one, on a hosted demo with a class open: *Post to the class*.)"""
        if job.state == "finished":
            class_views.post_button(self, job.run)
            return
        if job.state not in ("stopped", "failed") or job.started is None or \
                not job.run.checkpoint_path.exists() or manager().active_for_run(job.run.id):
            return
        try:
            payload = state.load_checkpoint_file(job.run.checkpoint_path)
        except checkpoints.CheckpointError as error:
            st.error(_("The run's checkpoint cannot be read: {error}").format(error=error))
            return
        if st.button(_("Resume from step {step:,}").format(step=payload["step"]),
                     key=self.key("resume", "job")):
            self.resume_run(job.run, payload)

    def final_summary(self, final: dict) -> str:
        """A few words on a finished run's figures for the status line (after "Finished at …")."""
        return ""

    def rerun_when_done(self, job) -> None:
        """Inside a polling fragment: redraw the whole page once when the job ends."""
        was_active = st.session_state.get(self.key("was_active"), False)
        st.session_state[self.key("was_active")] = job.is_active
        if was_active and not job.is_active:
            st.rerun()

    def run_header(self, run) -> dict | None:
        """Status, message, download and Resume of a run on disk; returns its checkpoint or None."""
        status = run.status
        st.subheader(_("Run {run}").format(run=run.id))
        st.caption(_("Status: **{status}** · step {step:,} · {settings}").format(
            status=status_text(status.get("status")), step=status.get("step", 0),
            settings=config_caption(run.info["config"], self.spec)))
        if status.get("message"):
            (st.error if status.get("status") == "failed" else st.info)(status["message"])
        payload = None
        if run.checkpoint_path.exists():
            try:
                payload = state.load_checkpoint_file(run.checkpoint_path)
            except checkpoints.CheckpointError as error:
                st.error(_("The run's checkpoint cannot be read: {error}").format(error=error))
        if payload is not None:
            st.download_button(_("Download checkpoint"), run.checkpoint_path.read_bytes(),
                               file_name=f"{run.id}.pt", key=self.key("download", "run"))
            if status.get("status") in ("stopped", "failed", "interrupted") and \
                    manager().active_for_run(run.id) is None:
                if st.button(_("Resume from step {step:,}").format(step=payload["step"]),
                             key=self.key("resume")):
                    self.resume_run(run, payload)
        return payload


def checkpoint_metrics(payload: dict) -> pd.DataFrame:
    """The metrics a checkpoint carries, as the long-form frame the charts read."""
    return pd.DataFrame(payload.get("metrics", []), columns=METRIC_COLUMNS)
