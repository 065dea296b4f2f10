"""BEGAN's page: its own charts (M_global, k_t, the reconstruction losses), what its D keeps, and
the side-by-side with a DCGAN of comparable size, same data and time budget."""
from __future__ import annotations

import dataclasses
import json

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch

from core import gan_eval
from core.data.fashion_mnist import DataUnavailable
from core.demo import LimitError
from core.i18n import _, shown
from core.jobs import manager
from core.models.gans.base import to_gan_range, to_uint8
from core.models.gans.began import SIDE_BY_SIDE, side_by_side_configs
from core.models.spec import count_parameters
from core.paths import CHECKPOINTS
from core.registry import MODELS
from ui import charts, datasets, pictures, state
from ui.gan_views import GANPanel
from ui.shell import POLL_SECONDS, panel_for

KEY = "began.side_by_side"
SHOWN = 8                  # real images and their reconstructions drawn on the page (64 px each)
JUDGED = 1000              # test images whose reconstructions the shipped CNN classifies
MEASURED = CHECKPOINTS / "began_vs_dcgan.json"   # written by bench/infogan_began.py compare



def convergence_figure(frame: pd.DataFrame) -> go.Figure:
    """M_global = L(x) + |γ L(x) − L(G(z))|: lower is better; it should fall and settle."""
    return charts.lines(frame, {"began/m_global": "M_global"}, _("Convergence measure M_global"),
                        "M_global", smooth=True, subtitle=_("BEGAN's: it falls as the images "
                                                           "improve"))


def k_figure(frame: pd.DataFrame) -> go.Figure:
    figure = charts.lines(frame, {"began/k": "k_t"}, _("Equilibrium control k_t"), "k_t",
                          subtitle=_("how much D attends to generated images"))
    figure.update_layout(yaxis_range=[0, 1.02])
    return figure


def reconstruction_figure(frame: pd.DataFrame, gamma: float) -> go.Figure:
    """L(x) and L(G(z)) with γ·L(x), the target L(G(z)) the controller steers to."""
    figure = charts.lines(frame, {"began/loss_real": _("L(x) (real)"),
                                  "began/loss_fake": _("L(G(z)) (generated)")},
                          _("Autoencoder losses"), _("mean |v − D(v)|"), smooth=True,
                          subtitle=_("the target: L(G(z)) = γ·L(x), γ = {gamma:g}").format(
                              gamma=gamma))
    real = charts.series(frame, "began/loss_real")
    figure.add_scatter(x=real["step"], y=gamma * real["value"], mode="lines", name="γ·L(x)",
                       line=dict(dash="dash", color="gray"))
    return figure


class BEGANPanel(GANPanel):

    def training_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        """BEGAN's own measures in place of the BCE bands and D's accuracy."""
        t = self.spec.health.thresholds
        charts.plot(convergence_figure(frame), f"{key}.mglobal")
        charts.plot(k_figure(frame), f"{key}.k")
        st.caption(self.spec.health.chart_notes["k_t"])
        charts.plot(reconstruction_figure(frame, float(config.get("gamma", 0.5))),
                    f"{key}.recon")
        charts.plot(charts.diversity_figure(frame, t.collapse_diversity,
                                            getattr(t, "collapse_nearest", None)), f"{key}.div")
        charts.plot(charts.grad_norm_figure(frame), f"{key}.grad")
        st.caption(self.spec.health.chart_notes["grad_norm"])

    def explorer_extras(self, model, key: str) -> None:
        what_d_keeps(model, key)

    def after(self) -> None:
        side_by_side()


def _measured() -> None:
    if not MEASURED.exists():
        return
    result = json.loads(MEASURED.read_text())
    lines = [_("- **{title}** ({parameters:,} parameters, {steps:,} steps): {verdict} — "
               "{classes:.0f} of 10 classes covered, diversity {diversity:.2f}× real").format(
                   title=shown(row["title"]), parameters=row["parameters"], steps=row["steps"],
                   verdict=shown(row["verdict"]), classes=row["classes_covered"],
                   diversity=row["diversity"]) for row in result["runs"]]
    st.caption(_("Measured on this project's CPU ({budget:.0f} s each, `{command}`):").format(
        budget=result["budget_s"], command=result["command"]))
    st.markdown("\n".join(lines))


def side_by_side() -> None:
    st.divider()
    st.subheader(_("Side by side: BEGAN vs DCGAN"))
    configs = dict(zip(SIDE_BY_SIDE, side_by_side_configs(60)))
    counts = {name: count_parameters(*MODELS[name].build_network(config, (1, 32, 32)))
              for name, config in configs.items()}
    (this, this_count), (other, other_count) = counts.items()
    st.caption(_("The tutorial's author found BEGAN never collapsed where DCGAN did (here its "
                 "γ 0.5 preset did). Try it: the {this} at this page's defaults ({this_count:,} "
                 "parameters) and the tutorial's {other} at ngf = ndf = {width} ({other_count:,} "
                 "parameters), on the dataset chosen above, each for the same time budget; the "
                 "health monitor judges both.").format(
                     this=_(MODELS[this].title), this_count=this_count,
                     other=_(MODELS[other].title), width=SIDE_BY_SIDE[other]["generator_width"],
                     other_count=other_count))
    _measured()
    budget = st.select_slider(_("Time budget per model (s)"), [60, 120, 300, 600, 1200],
                              value=120, key=f"{KEY}.budget")
    jobs = st.session_state.get(KEY)
    is_active = bool(jobs) and any(job.is_active for job in (manager().get(i) for i in jobs.values())
                                   if job is not None)
    if state.limits().enabled:
        st.caption(_("On this shared demo each visitor trains one job at a time, so the two "
                     "models cannot run side by side here; the measured comparison above is what "
                     "it gives on a machine of your own."))
    if st.button(_("Run the side-by-side"), disabled=is_active or state.limits().enabled,
                 key=f"{KEY}.run"):
        try:
            data = datasets.load(MODELS[this])
        except DataUnavailable as error:
            st.error(str(error))
            return
        configs = dict(zip(SIDE_BY_SIDE, side_by_side_configs(float(budget))))
        try:
            st.session_state[KEY] = {
                name: manager().submit(MODELS[name], config, lambda: data, owner=state.owner()).id
                for name, config in configs.items()}
        except LimitError as error:
            st.error(str(error))
            return
        st.rerun()
    if not jobs:
        return
    _live(jobs)


def _live(job_ids: dict) -> None:
    jobs = {name: manager().get(job_id) for name, job_id in job_ids.items()}
    active = any(job is not None and job.is_active for job in jobs.values())

    @st.fragment(run_every=POLL_SECONDS if active else None)
    def panel():
        columns = st.columns(2)
        for column, (name, job) in zip(columns, jobs.items()):
            with column:
                spec = MODELS[name]
                st.markdown(_("**{title}** — run {run}").format(
                    title=_(spec.title), run=job.run.id if job else "?"))
                if job is None:
                    st.warning(_("That job belongs to an earlier server process."))
                    continue
                panel_for(spec).job_status(job)
                frame = job.metrics()
                verdict = spec.health.judge(frame, dataclasses.asdict(job.config),
                                            ended=not job.is_active)
                box = {"healthy": st.success, "warming up": st.info,
                       "too short": st.warning}.get(verdict.state, st.error)
                box(_("**{state}** — {headline}").format(state=_(verdict.state),
                                                         headline=verdict.headline))
                if job.samples:
                    step, images = job.samples[-1]   # half the page: 6 a row at 64 px
                    pictures.show(pictures.readable_grid(images[:36], columns=6),
                                  _("fixed noise (the first 36), step {step:,}").format(
                                      step=step))
                if job.final.get("classes/covered") is not None:
                    st.caption(_("{covered:.0f} of 10 classes covered, diversity "
                                 "{diversity:.2f}× real (1,000 samples, shipped CNN)").format(
                                     covered=job.final["classes/covered"],
                                     diversity=job.final.get("diversity/ratio", 0)))
        if active and not any(job is not None and job.is_active for job in jobs.values()):
            st.rerun()

    panel()


@st.cache_resource(show_spinner=False, max_entries=8)
def _reconstructions(key: str, _trainer):
    """(real, reconstructed) uint8 images to show, and the CNN's class shares of both."""
    data = state.images()
    real = to_gan_range(data.test_images[:JUDGED].float() / 255, 32)
    rebuilt = _trainer.reconstruct(real).cpu()
    judge = gan_eval.judge_for(data)
    shares = (judge.class_histogram(real), judge.class_histogram(rebuilt)) if judge else None
    return to_uint8(real[:SHOWN]), to_uint8(rebuilt[:SHOWN]), shares, data.class_names


def what_d_keeps(trainer, key: str) -> None:
    """BEGAN's ceiling, shown: G is rewarded for images D reconstructs well, so what D's
    reconstructions of real images lose, G's images lack."""
    if trainer.image_shape[0] != 1:
        return                                      # trained on colour images: no Fashion-MNIST
    try:
        real, rebuilt, shares, names = _reconstructions(key, trainer)
    except DataUnavailable:
        return
    st.subheader(_("What D keeps"))
    st.caption(_("Top: test images. Bottom: what this model's autoencoder D makes of them. G is "
                 "rewarded for images D reconstructs well, so what D loses here, G's images "
                 "lack — which is why BEGAN's samples are smooth and why some garments go "
                 "missing."))
    pictures.show(pictures.readable_grid(torch.cat([real, rebuilt]), columns=SHOWN))
    if shares is None:
        return
    real_shares, rebuilt_shares = shares
    covered = [int((s >= gan_eval.COVERAGE_SHARE).sum()) for s in (real_shares, rebuilt_shares)]
    lost = sorted(range(len(names)), key=lambda i: float(rebuilt_shares[i] - real_shares[i]))[:3]
    st.markdown(_("The shipped CNN sees **{rebuilt} of 10** classes (≥ 5%) in D's "
                  "reconstructions of {count:,} test images, against {real} in the images "
                  "themselves. Lost most: {lost}. A G that drew exactly what D keeps would cover "
                  "about as many.").format(
                      rebuilt=covered[1], count=JUDGED, real=covered[0],
                      lost=", ".join(f"{_(names[i])} {float(real_shares[i]):.0%} → "
                                     f"{float(rebuilt_shares[i]):.0%}" for i in lost)))
