"""What the GAN and the image-to-image pages share: the live health monitor with the tutorial's
remedies as buttons, the grid of fixed inputs over time (a slider back through earlier grids, live
and from a run's saved pictures), and the frame of the job, run and checkpoint views.

``AdversarialPanel`` is their common page; ``GANPanel`` (``ui/gan_views.py``) adds the dataset
picker, the latent explorer and the Inside views, ``TranslationPanel``
(``ui/translation_views.py``) the test images through the finished model. Each fills in
``training_charts`` and ``explorer``.
"""
from __future__ import annotations

import dataclasses
import io

import numpy as np
import pandas as pd
import streamlit as st
import torch

from PIL import Image

from core import checkpoints
from core.jobs import manager
from core.registry import load_model
from core.diagnostics import remedies_heading
from core.i18n import N_, _
from ui import pictures, state
from ui.shell import Panel, checkpoint_metrics, open_view

SCALE = 3  # 28-32 px samples drawn 3x larger (at least 64 px: ``ui/pictures.py``)
SAVED_COLUMNS = 8   # a run's saved grids (``core/runs.py``): 8 columns, 2 px apart, unscaled


def show_grid(images: torch.Tensor, caption: str, key: str, columns: int = 8) -> None:
    """uint8 images in a grid a learner can read (each at least 64 px), with a PNG download."""
    pictures.show(pictures.readable_grid(images, columns=columns), caption, download=key)


def saved_grid_picture(raw: bytes, columns: int = SAVED_COLUMNS) -> np.ndarray:
    """A run's saved grid (PNG bytes, images unscaled, 2 px apart) enlarged so each image is at
    least 64 px (nearest neighbour)."""
    picture = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))
    side = max((picture.shape[1] - 2) // columns - 2, 1)
    return pictures.readable_picture(picture, side)


@st.cache_resource(show_spinner=False, max_entries=8)
def model_for(key: str, _payload: dict):
    """A checkpoint's model on the CPU, built and loaded once per process (float16 cast back)."""
    return load_model(_payload, torch.device("cpu"))


def source_payload(source) -> tuple[dict, str] | None:
    """(checkpoint, cache key) of a payload or a checkpoint file; None after saying why not."""
    try:
        return state.payload_and_key(source)
    except checkpoints.CheckpointError as error:
        st.error(_("Cannot read the checkpoint: {error}").format(error=error))
        return None


class AdversarialPanel(Panel):
    """A page of a model trained against a discriminator, judged by its spec's health rules."""

    # What the grids of fixed inputs show (a GAN's fixed noise; a translation's test images):
    # marked here, translated where drawn (a subclass marks its own with N_).
    preview_caption = N_("fixed noise")
    samples_label = N_("Samples at step")
    no_samples_yet = N_("The first sample grid appears after the first steps.")

    # The health monitor --------------------------------------------------------------------------
    def monitor_panel(self, frame: pd.DataFrame, config: dict, job=None,
                      ended: bool = True) -> None:
        """The health verdict, its evidence, which bands it uses, and the remedies as buttons."""
        health = self.spec.health
        verdict = health.judge(frame, config, ended=ended)
        box = {"healthy": st.success, "warming up": st.info,
               "too short": st.warning}.get(verdict.state, st.error)
        box(_("**Health monitor — {state}.** {headline}").format(state=_(verdict.state),
                                                                  headline=verdict.headline))
        if verdict.evidence:
            st.markdown("\n".join(f"- {line}" for line in verdict.evidence))
        with st.expander(_("Which bands the monitor uses, and why")):
            st.markdown(health.explanation)
        if verdict.remedies and job is not None:
            heading = remedies_heading(verdict.remedies)
            if verdict.window[0] > 0:
                st.caption(_("{heading} — each restarts from the last snapshot before step "
                             "{step:,} (or from scratch when the change alters a layer) with the "
                             "change, stopping this run first if it is still going:").format(
                    heading=heading, step=verdict.window[0]))
            else:
                st.caption(_("{heading} — each restarts from the start (or from scratch when the "
                             "change alters a layer) with the change, stopping this run first if "
                             "it is still going:").format(heading=heading))
            columns = st.columns(min(len(verdict.remedies), 4))
            for index, remedy in enumerate(verdict.remedies[:4]):
                if columns[index].button(remedy.label, key=self.key("remedy", str(index)),
                                         help=remedy.help, width="stretch"):
                    self.restart_with(job, remedy, verdict.window[0])

    def restart_with(self, job, remedy, before_step: int) -> None:
        """A remedy button: the job manager restarts the run; the form follows the change."""
        try:
            data = self.load_data(job.config)
            restarted = manager().restart(job, self.spec, remedy.changes, before_step,
                                          lambda: data, from_scratch=remedy.from_scratch,
                                          owner=state.owner(), note=remedy.label)
        except Exception as error:  # shown, never a crash of the page
            st.session_state[self.key("start_error")] = f"{type(error).__name__}: {error}"
            st.rerun()
        self.follow(remedy.changes, remedy.label)   # the form shows the settings the run uses
        open_view(self.name, "job", restarted.id)
        st.rerun()

    # Charts and grids ----------------------------------------------------------------------------
    def training_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        """The losses and the discriminator's view of the run (each family its own)."""
        raise NotImplementedError

    def samples_scrubber(self, samples: list, key: str) -> None:
        """The grid of fixed inputs over time, with a slider to scrub back through earlier grids."""
        if not samples:
            st.caption(_(self.no_samples_yet))
            return
        steps = [step for step, _images in samples]
        chosen = steps[-1]
        if len(steps) > 1:
            chosen = st.select_slider(_(self.samples_label), steps, value=steps[-1],
                                      key=f"{key}.scrub")
        show_grid(dict(samples)[chosen], _("{caption}, step {step:,}").format(
            caption=_(self.preview_caption), step=chosen), f"{key}-step{chosen}")

    def saved_samples(self, run) -> None:
        """A run's grids as it saved them, with the same slider."""
        files = run.sample_files()
        if files:
            steps = [int(path.stem.split("_")[1]) for path in files]
            chosen = st.select_slider(_(self.samples_label), steps, value=steps[-1],
                                      key=self.key("run", "scrub")) \
                if len(steps) > 1 else steps[0]
            pictures.show(saved_grid_picture(files[steps.index(chosen)].read_bytes()),
                          _("{caption}, step {step:,}").format(caption=_(self.preview_caption),
                                                               step=chosen))

    # Views ---------------------------------------------------------------------------------------
    def job_heading(self, job) -> None:
        super().job_heading(job)
        message = job.run.status.get("message", "")
        # A remedy's restart, in the language it was made in (older runs: English only).
        if message and (message == job.run.status.get("restart_message")
                        or message.startswith("restarted")):
            st.caption(message)

    def live_view(self, job) -> None:
        frame, config = job.metrics(), dataclasses.asdict(job.config)
        # The remedies stay after the run has ended.
        self.monitor_panel(frame, config, job, ended=not job.is_active)
        # One above the other: the grid needs the view's width for 64 px images, and a chart
        # beside another is too narrow for its title at 1400 px.
        self.samples_scrubber(list(job.samples), self.key("job"))
        self.training_charts(frame, self.key("job"), config)

    def job_done(self, job) -> None:
        if job.state == "finished":
            self.explorer(job.run.checkpoint_path)
            self.inside(job.run.checkpoint_path)

    def run_body(self, run, payload: dict | None) -> None:
        frame = run.metrics()
        self.monitor_panel(frame, run.info["config"])
        self.saved_samples(run)
        self.training_charts(frame, self.key("run"), run.info["config"])
        if payload is not None:
            self.explorer_fragment(run.checkpoint_path)
            self.inside(run.checkpoint_path)

    def checkpoint_body(self, payload: dict) -> None:
        self.explorer_fragment(payload)
        self.inside(payload)
        frame = checkpoint_metrics(payload)
        if not frame.empty:
            with st.expander(_("How it trained: losses, D outputs, diversity"), expanded=False):
                self.monitor_panel(frame, payload["config"])
                self.training_charts(frame, self.key("ckpt"), payload["config"])

    # The finished model --------------------------------------------------------------------------
    def explorer_fragment(self, source) -> None:
        """The explorer in a fragment: a seed, a slider or a class select reruns its own
        pictures, not the page, its charts and its *Inside* panel."""
        st.fragment(self.explorer)(source)

    def explorer(self, source) -> None:
        """The finished model (a checkpoint's payload or file) put to use."""
        raise NotImplementedError

    def inside(self, source) -> None:
        """Below the explorer: what the networks do inside (the GAN pages)."""
