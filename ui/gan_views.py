"""The GAN pages: live health monitor and charts, sample-grid scrubber, latent explorer.

``GANPanel`` is the GAN family's page; a model with its own widgets subclasses it in
``ui/panels/`` and overrides a hook (``training_charts``, ``explorer``, ``after``).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import streamlit as st
import torch

from core import checkpoints
from core.images import grid, png_bytes
from core.jobs import manager
from core.models.gans.base import slerp, to_uint8
from core.registry import load_model
from ui import charts, datasets, inside_views, state
from ui.shell import POLL_SECONDS, Panel, checkpoint_metrics, config_caption, load_run, open_view

SCALE = 3  # 28-32 px samples drawn 3x larger


def show_grid(images: torch.Tensor, caption: str, key: str, columns: int = 8) -> None:
    picture = grid(images, columns=columns, scale=SCALE)
    st.image(picture, caption=caption)
    st.download_button("Download PNG", png_bytes(picture), file_name=f"{key}.png", mime="image/png",
                       key=f"{key}.png")


@st.cache_resource(show_spinner=False, max_entries=8)
def model_for(key: str, _payload: dict):
    """A checkpoint's model on the CPU, built and loaded once per process (float16 cast back)."""
    return load_model(_payload, torch.device("cpu"))


def source_payload(source) -> tuple[dict, str] | None:
    """(checkpoint, cache key) of a payload or a checkpoint file; None after saying why not."""
    try:
        return state.payload_and_key(source)
    except checkpoints.CheckpointError as error:
        st.error(f"Cannot read the checkpoint: {error}")
        return None


class GANPanel(Panel):

    # Data ----------------------------------------------------------------------------------------
    def data_controls(self) -> None:
        datasets.picker(self.spec)

    def load_data(self, config):
        return datasets.load(self.spec)

    # The health monitor --------------------------------------------------------------------------
    def monitor_panel(self, frame: pd.DataFrame, config: dict, job=None,
                      ended: bool = True) -> None:
        """The health verdict, its evidence, which bands it uses, and the remedies as buttons."""
        health = self.spec.health
        verdict = health.judge(frame, config, ended=ended)
        box = {"healthy": st.success, "warming up": st.info,
               "too short": st.warning}.get(verdict.state, st.error)
        box(f"**Health monitor — {verdict.state}.** {verdict.headline}")
        if verdict.evidence:
            st.markdown("\n".join(f"- {line}" for line in verdict.evidence))
        with st.expander("Which bands the monitor uses, and why"):
            st.markdown(health.explanation)
        if verdict.remedies and job is not None:
            where = (f"the last snapshot before step {verdict.window[0]:,}"
                     if verdict.window[0] > 0 else "the start")
            st.caption(f"The tutorial's remedies — each restarts from {where} (or from scratch "
                       "when the change alters a layer) with the change, stopping this run first "
                       "if it is still going:")
            columns = st.columns(min(len(verdict.remedies), 4))
            for index, remedy in enumerate(verdict.remedies[:4]):
                if columns[index].button(remedy.label, key=self.key("remedy", str(index)),
                                         help=remedy.why, width="stretch"):
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

    # Charts --------------------------------------------------------------------------------------
    def training_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        """The tutorial's diagnostics: losses with its bands, D's outputs and accuracy, diversity
        and classes covered, gradient norms."""
        health = self.spec.health
        t = health.thresholds
        left, right = st.columns(2)
        left.plotly_chart(charts.gan_loss_figure(frame, t, health.equilibrium_d_loss,
                                                 health.loss_name), key=f"{key}.loss")
        right.plotly_chart(charts.d_outputs_figure(frame), key=f"{key}.dout")
        left, right = st.columns(2)
        left.plotly_chart(charts.d_accuracy_figure(frame, t.d_accuracy_healthy), key=f"{key}.dacc")
        right.plotly_chart(charts.diversity_figure(frame, t.collapse_diversity), key=f"{key}.div")
        st.plotly_chart(charts.grad_norm_figure(frame), key=f"{key}.grad")

    def samples_scrubber(self, samples: list, key: str) -> None:
        """The fixed-noise grid over time, with a slider to scrub back through earlier grids."""
        if not samples:
            st.caption("The first sample grid appears after the first steps.")
            return
        steps = [step for step, _ in samples]
        chosen = steps[-1]
        if len(steps) > 1:
            chosen = st.select_slider("Samples at step", steps, value=steps[-1], key=f"{key}.scrub")
        show_grid(dict(samples)[chosen], f"fixed noise, step {chosen:,}", f"{key}-step{chosen}")

    # Views ---------------------------------------------------------------------------------------
    def job_view(self, job) -> None:
        st.subheader(f"Run {job.run.id}")
        if job.run.status.get("message", "").startswith("restarted"):
            st.caption(job.run.status["message"])
        config = dataclasses.asdict(job.config)

        @st.fragment(run_every=POLL_SECONDS if job.is_active else None)
        def live():
            self.job_status(job)
            frame = job.metrics()
            # The remedies stay after the run has ended.
            self.monitor_panel(frame, config, job, ended=not job.is_active)
            left, right = st.columns([2, 1])
            with right:
                self.samples_scrubber(list(job.samples), self.key("job"))
            with left:
                self.training_charts(frame, self.key("job"), config)
            self.rerun_when_done(job)

        live()
        self.resume_here(job)
        if job.state == "finished":
            self.explorer(job.run.checkpoint_path)
            self.inside(job.run.checkpoint_path)

    def run_view(self, run_id: str) -> None:
        run = load_run(run_id)
        if run is None:
            return
        payload = self.run_header(run)
        frame = run.metrics()
        self.monitor_panel(frame, run.info["config"])
        left, right = st.columns([2, 1])
        with right:
            files = run.sample_files()
            if files:
                steps = [int(path.stem.split("_")[1]) for path in files]
                chosen = st.select_slider("Samples at step", steps, value=steps[-1],
                                          key=self.key("run", "scrub")) \
                    if len(steps) > 1 else steps[0]
                st.image(files[steps.index(chosen)].read_bytes(),
                         caption=f"fixed noise, step {chosen:,}", width=8 * 34 * SCALE // 2)
        with left:
            self.training_charts(frame, self.key("run"), run.info["config"])
        if payload is not None:
            self.explorer(run.checkpoint_path)
            self.inside(run.checkpoint_path)

    def checkpoint_view(self, payload: dict, raw: bytes, label: str) -> None:
        st.subheader(f"{self.spec.title} — {label}")
        st.caption(f"Step {payload['step']:,} · " + config_caption(payload["config"], self.spec))
        st.download_button("Download checkpoint", raw, file_name=f"{self.name}.pt",
                           key=self.key("download", "ckpt"))
        self.explorer(payload)
        self.inside(payload)
        frame = checkpoint_metrics(payload)
        if not frame.empty:
            with st.expander("How it trained: losses, D outputs, diversity", expanded=False):
                self.monitor_panel(frame, payload["config"])
                self.training_charts(frame, self.key("ckpt"), payload["config"])

    # The finished model --------------------------------------------------------------------------
    def explorer(self, source) -> None:
        """Latent exploration: a grid from a seed; interpolation between two seeds; PNGs."""
        loaded = source_payload(source)
        if loaded is None:
            return
        payload, key = loaded
        model = model_for(key, payload)
        st.subheader("Explore the latent space")
        left, right = st.columns(2)
        with left:
            seed = st.number_input("Seed of the noise z", 0, 2**31 - 1, 0, key=self.key("seed"))
            z = model.noise(64, torch.Generator().manual_seed(int(seed)))  # the model's own prior
            show_grid(to_uint8(model.generate(z)), f"64 samples, seed {seed}",
                      f"{self.name}-seed{seed}")
        with right:
            first, second, method = st.columns([1, 1, 1.3])
            seed_a = first.number_input("From seed", 0, 2**31 - 1, 1, key=self.key("seed_a"))
            seed_b = second.number_input("To seed", 0, 2**31 - 1, 2, key=self.key("seed_b"))
            kind = method.radio("Path", ["spherical", "linear"], key=self.key("path"),
                                horizontal=True)
            rows = 4
            start = model.noise(rows, torch.Generator().manual_seed(int(seed_a)))
            end = model.noise(rows, torch.Generator().manual_seed(int(seed_b)))
            steps = np.linspace(0, 1, 8)
            path = [slerp(start, end, float(t)) if kind == "spherical" else (1 - t) * start + t * end
                    for t in steps]
            z = torch.stack(path, dim=1).reshape(rows * len(steps), -1)  # row r: a -> b
            show_grid(to_uint8(model.generate(z)), f"{rows} interpolations, seed {seed_a} → "
                      f"{seed_b} ({kind})", f"{self.name}-interp{seed_a}-{seed_b}")
        self.explorer_extras(model, key)

    def explorer_extras(self, model, key: str) -> None:
        """More views of a finished model, below the explorer (BEGAN: what its D keeps)."""

    def inside(self, source) -> None:
        """Below the explorer: D's scores over training and now, what D's gradient asks of a
        generated image, its nearest training images (``ui/inside_views.py``)."""
        if self.spec.family == "gan":      # the image-to-image pages reuse these views
            inside_views.gan_inside(self, source, model_for)
