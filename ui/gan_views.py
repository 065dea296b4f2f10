"""GAN views: live health monitor and charts, sample-grid scrubber, latent explorer."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import streamlit as st
import torch

from core import charts, checkpoints, diagnostics
from core.config import from_dict
from core.gan_task import make_trainer, slerp, to_uint8
from core.images import grid, png_bytes
from core.jobs import manager
from core.registry import MODELS
from core.runs import METRIC_COLUMNS
from ui import model_page, state

SCALE = 3  # 28-32 px samples drawn 3x larger


def _show_grid(images: torch.Tensor, caption: str, key: str, columns: int = 8) -> None:
    picture = grid(images, columns=columns, scale=SCALE)
    st.image(picture, caption=caption)
    st.download_button("Download PNG", png_bytes(picture), file_name=f"{key}.png", mime="image/png",
                       key=f"{key}.png")


def monitor_panel(spec, frame: pd.DataFrame, config: dict, job=None) -> None:
    """The health verdict, its evidence, and the tutorial's remedies as buttons."""
    verdict = diagnostics.diagnose(frame, config)
    box = {"healthy": st.success, "warming up": st.info}.get(verdict.state, st.error)
    box(f"**Health monitor — {verdict.state}.** {verdict.headline}")
    if verdict.evidence:
        st.markdown("\n".join(f"- {line}" for line in verdict.evidence))
    if verdict.remedies and job is not None:
        st.caption("The tutorial's remedies — each restarts from the last snapshot before step "
                   f"{verdict.window[0]:,} (or from scratch) with the change, stopping this run "
                   "first if it is still going:")
        columns = st.columns(min(len(verdict.remedies), 4))
        for index, remedy in enumerate(verdict.remedies[:4]):
            if columns[index].button(remedy.label, key=f"{spec.name}.remedy.{index}",
                                     help=remedy.why, width="stretch"):
                restart_with(spec, job, remedy.changes, verdict.window[0], remedy.label,
                             remedy.from_scratch)


def restart_with(spec, job, changes: dict, before_step: int, label: str,
                 from_scratch: bool = False) -> None:
    manager().stop(job.id)
    manager().wait(job, timeout=10)
    config = from_dict(spec.config_cls, {**dataclasses.asdict(job.config), **changes})
    snapshots = [] if from_scratch else [path for path in job.run.snapshots()
                                         if int(path.stem.split("_")[1]) <= max(before_step, 0)]
    resume = checkpoints.load(snapshots[-1], expected_model=spec.name) if snapshots else None
    for name, value in changes.items():  # the form shows the settings the new run uses
        st.session_state[f"{spec.name}.field.{name}"] = value
    model_page.start_job(spec, config, resume, note=f"restarted from {job.run.id} at step "
                         f"{resume['step'] if resume else 0} with: {label}")


def charts_panel(frame: pd.DataFrame, key: str, config: dict | None = None) -> None:
    t = diagnostics.THRESHOLDS
    config = config or {}
    if not charts.series(frame, "began/m_global").empty:   # BEGAN: its own measures
        left, right = st.columns(2)
        left.plotly_chart(charts.convergence_figure(frame), key=f"{key}.mglobal")
        right.plotly_chart(charts.k_figure(frame), key=f"{key}.k")
        left, right = st.columns(2)
        left.plotly_chart(charts.reconstruction_figure(frame, float(config.get("gamma", 0.5))),
                          key=f"{key}.recon")
        right.plotly_chart(charts.diversity_figure(frame, t.collapse_diversity), key=f"{key}.div")
        st.plotly_chart(charts.grad_norm_figure(frame), key=f"{key}.grad")
        return
    if not charts.series(frame, "info/mutual_information").empty:   # infoGAN's extra loss
        st.plotly_chart(charts.information_figure(frame, int(config.get("categories", 10))),
                        key=f"{key}.info")
    left, right = st.columns(2)
    left.plotly_chart(charts.gan_loss_figure(frame, t), key=f"{key}.loss")
    right.plotly_chart(charts.d_outputs_figure(frame), key=f"{key}.dout")
    left, right = st.columns(2)
    left.plotly_chart(charts.d_accuracy_figure(frame, t.d_accuracy_healthy), key=f"{key}.dacc")
    right.plotly_chart(charts.diversity_figure(frame, t.collapse_diversity), key=f"{key}.div")
    st.plotly_chart(charts.grad_norm_figure(frame), key=f"{key}.grad")


def samples_scrubber(samples: list, key: str) -> None:
    """The fixed-noise grid over time, with a slider to scrub back (the seed saves one per epoch)."""
    if not samples:
        st.caption("The first sample grid appears after the first steps.")
        return
    steps = [step for step, _ in samples]
    chosen = steps[-1]
    if len(steps) > 1:
        chosen = st.select_slider("Samples at step", steps, value=steps[-1], key=f"{key}.scrub")
    images = dict(samples)[chosen]
    _show_grid(images, f"fixed noise, step {chosen:,}", f"{key}-step{chosen}")


def job_view(spec, job) -> None:
    st.subheader(f"Run {job.run.id}")
    if job.run.status.get("message", "").startswith("restarted"):
        st.caption(job.run.status["message"])
    config = dataclasses.asdict(job.config)

    @st.fragment(run_every=model_page.POLL_SECONDS if job.is_active else None)
    def live():
        model_page.job_status(job, spec)
        frame = job.metrics()
        monitor_panel(spec, frame, config, job)   # remedies also after the run has ended
        left, right = st.columns([2, 1])
        with right:
            samples_scrubber(list(job.samples), f"{spec.name}.job")
        with left:
            charts_panel(frame, f"{spec.name}.job", config)
        model_page.rerun_when_done(job, spec)

    live()
    if job.state == "finished":
        explorer(spec, job.run.checkpoint_path)


def run_view(spec, run_id: str) -> None:
    run = model_page.load_run(run_id)
    if run is None:
        return
    payload = model_page.run_header(spec, run)
    frame = run.metrics()
    monitor_panel(spec, frame, run.info["config"])
    left, right = st.columns([2, 1])
    with right:
        files = run.sample_files()
        if files:
            steps = [int(path.stem.split("_")[1]) for path in files]
            chosen = st.select_slider("Samples at step", steps, value=steps[-1],
                                      key=f"{spec.name}.run.scrub") if len(steps) > 1 else steps[0]
            st.image(files[steps.index(chosen)].read_bytes(), caption=f"fixed noise, step {chosen:,}",
                     width=8 * 34 * SCALE // 2)
    with left:
        charts_panel(frame, f"{spec.name}.run", run.info["config"])
    if payload is not None:
        explorer(spec, run.checkpoint_path)


def checkpoint_view(spec, payload: dict, raw: bytes, label: str) -> None:
    st.subheader(f"{spec.title} — {label}")
    st.caption(f"Step {payload['step']:,} · " + model_page.config_caption(payload["config"], spec))
    st.download_button("Download checkpoint", raw, file_name=f"{spec.name}.pt",
                       key=f"{spec.name}.download.ckpt")
    explorer(spec, payload)
    frame = pd.DataFrame(payload.get("metrics", []), columns=METRIC_COLUMNS)
    if not frame.empty:
        with st.expander("How it trained: losses, D outputs, diversity", expanded=False):
            monitor_panel(spec, frame, payload["config"])
            charts_panel(frame, f"{spec.name}.ckpt", payload["config"])


@st.cache_resource(show_spinner=False, max_entries=8)
def _generator_for(key: str, _payload: dict):
    spec = MODELS[_payload["model"]]
    config = from_dict(spec.config_cls, _payload["config"], strict=False)
    size = getattr(config, "image_size", 28)
    trainer = make_trainer(spec, config, (1, size, size), torch.device("cpu"))
    trainer.load_state(_payload, with_optimizer=False)  # load_state_dict casts float16 back
    return trainer


def explorer(spec, source) -> None:
    """Latent exploration: a grid from a seed; interpolation between two seeds; PNG downloads."""
    if isinstance(source, dict):
        payload, key = source, f"{spec.name}:{id(source)}"
    else:
        try:
            payload = state.load_checkpoint_file(source)
        except checkpoints.CheckpointError as error:
            st.error(f"Cannot read the checkpoint: {error}")
            return
        key = f"{source}:{source.stat().st_mtime}"
    if spec.name == "infogan":   # codes with a meaning: sliders instead of seeds
        from ui import infogan_views
        infogan_views.explorer(spec, payload, key)
        return
    trainer = _generator_for(key, payload)
    latent_dim = trainer.config.latent_dim
    st.subheader("Explore the latent space")
    left, right = st.columns(2)
    with left:
        seed = st.number_input("Seed of the noise z", 0, 2**31 - 1, 0, key=f"{spec.name}.seed")
        z = trainer.noise(64, torch.Generator().manual_seed(int(seed)))  # the model's own prior
        _show_grid(to_uint8(trainer.generate(z)), f"64 samples, seed {seed}",
                   f"{spec.name}-seed{seed}")
    with right:
        first, second, method = st.columns([1, 1, 1.3])
        seed_a = first.number_input("From seed", 0, 2**31 - 1, 1, key=f"{spec.name}.seed_a")
        seed_b = second.number_input("To seed", 0, 2**31 - 1, 2, key=f"{spec.name}.seed_b")
        kind = method.radio("Path", ["spherical", "linear"], key=f"{spec.name}.path",
                            horizontal=True)
        rows = 4
        start = trainer.noise(rows, torch.Generator().manual_seed(int(seed_a)))
        end = trainer.noise(rows, torch.Generator().manual_seed(int(seed_b)))
        steps = np.linspace(0, 1, 8)
        path = [slerp(start, end, float(t)) if kind == "spherical" else (1 - t) * start + t * end
                for t in steps]
        z = torch.stack(path, dim=1).reshape(rows * len(steps), latent_dim)  # row r: a -> b
        _show_grid(to_uint8(trainer.generate(z)), f"{rows} interpolations, seed {seed_a} → "
                   f"{seed_b} ({kind})", f"{spec.name}-interp{seed_a}-{seed_b}")
    if spec.name == "began":     # the autoencoder D: what it keeps of real images
        from ui import began_views
        began_views.what_d_keeps(trainer, key)
