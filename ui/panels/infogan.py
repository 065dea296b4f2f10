"""infoGAN's page: the mutual-information chart, and the code explorer in place of the seed
explorer: a select for the categorical code, a slider per continuous code, a z seed, traversal
grids, and what each code learned (measured with the shipped CNN)."""
from __future__ import annotations

import contextlib
import math
import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch

from core import gan_eval
from core.i18n import N_, _, ngettext, shown
from core.models.gans.base import to_uint8
from core.models.gans.infogan import code_meanings
from ui import charts, pictures
from ui.adversarial_views import model_for, source_payload
from ui.gan_views import GANPanel

SLIDER_RANGE = 2.0      # the codes were trained on [-1, 1]; the sliders go beyond to extrapolate
TRAVERSAL_COLUMNS = 8  # −2 … +2 (8 images of 64 px: the view column's width at 1400 px)
SAMPLES = 8             # the row drawn at the chosen codes, one image per z of the seed
# The image statistics a continuous code can follow (``core.models.gans.infogan.image_statistics``
# names them; the page shows them translated).
STATISTIC_NAMES = (N_("ink"), N_("width"), N_("height"), N_("brightness"), N_("slant"))



def information_figure(frame: pd.DataFrame, categories: int = 10) -> go.Figure:
    """The mutual-information bound of the categorical code and Q's accuracy on it."""
    figure = charts.lines(frame, {"info/mutual_information": _("I(c1; G) lower bound = ln K − "
                                                               "CE (nats)"),
                                  "loss/info": _("information loss (weighted, G step)")},
                          _("Mutual information"), "nats",
                          subtitle=_("infoGAN's extra loss; dashed: its ceiling, the entropy of "
                                     "c1"))
    accuracy = charts.series(frame, "info/categorical_accuracy")
    figure.add_scatter(x=accuracy["step"], y=accuracy["value"], mode="lines", yaxis="y2",
                       name=_("Q's accuracy on c1"), line=dict(dash="dot"))
    figure.add_hline(y=math.log(categories), line_dash="dash", line_color="gray",
                     annotation_text=f"H(c1) = ln {categories}", annotation_font_size=10)
    figure.update_layout(yaxis2=dict(title=_("accuracy"), overlaying="y", side="right",
                                     range=[0, 1.02], tickformat=".0%"))
    return figure


class InfoGANPanel(GANPanel):

    def training_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        """infoGAN's extra loss on top of the tutorial's diagnostics."""
        charts.plot(information_figure(frame, int(config.get("categories", 10))), f"{key}.info")
        super().training_charts(frame, key, config)

    def explorer(self, source) -> None:
        """Codes with a meaning: sliders instead of seeds."""
        loaded = source_payload(source)
        if loaded is not None:
            explorer(self.spec, *loaded)


@st.cache_resource(show_spinner=False, max_entries=8)
def _measured_meanings(key: str, _trainer) -> dict | None:
    """For checkpoints without stored meanings (mid-run, uploads): measure on 2,000 samples."""
    judge = gan_eval.shipped_judge()
    if judge is None:
        return None
    return code_meanings(_trainer, judge, count=2000, sweeps=100)


def meanings_for(key: str, payload: dict, trainer) -> dict | None:
    stored = (payload.get("evaluation") or {}).get("codes")
    if stored:
        return stored
    with st.spinner(_("Measuring what each code learned ...")):   # shown after half a second
        return _measured_meanings(key, trainer)


@contextlib.contextmanager
def one_thread():
    """Generate on one thread: a 100-image pass gains nothing from a second one, and on a busy
    2-core machine waiting for it took 128 ms instead of 16-22 ms (bench/infogan_began.py speed).
    PyTorch's OpenMP thread count is per thread, so a training job's threads keep theirs."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _code_label(value: int, meanings: dict | None) -> str:
    if not meanings:
        return _("code {value}").format(value=value)
    row = meanings["categorical"][value]
    return _("code {value} → {name} ({share:.0%})").format(value=value, name=shown(row["class"]),
                                                           share=row["share"])


def _continuous_label(index: int, meanings: dict | None) -> str:
    name = f"c{index + 2}"
    if not meanings or index >= len(meanings["continuous"]):
        return _("continuous code {name}").format(name=name)
    row = meanings["continuous"][index]
    return _("continuous code {name} — {statistic} (ρ = {correlation:+.2f})").format(
        name=name, statistic=shown(row["statistic"]), correlation=row["correlation"])


def _picture(images: torch.Tensor, columns: int):
    return pictures.readable_grid(to_uint8(images), columns=columns)


def explorer(spec, payload: dict, key: str) -> None:
    trainer = model_for(key, payload)   # built and loaded once per process
    config = trainer.config
    meanings = meanings_for(key, payload, trainer)
    st.subheader(_("Explore the codes"))
    st.caption(_("Pick the categorical code c1 and move the continuous codes: each was trained on "
                 "values in [−1, 1]; the sliders go to ±2 to show how the generator "
                 "extrapolates. z (the noise without a meaning) comes from the seed."))

    # The controls: categorical select, z seed, one slider per continuous code.
    first, second = st.columns([2, 1])
    value = first.selectbox(_("Categorical code c1"), list(range(config.categories)),
                            format_func=lambda v: _code_label(v, meanings),
                            key=f"{spec.name}.code")
    seed = second.number_input(_("Seed of the noise z"), 0, 2**31 - 1, 0,
                               key=f"{spec.name}.seed")
    sliders = st.columns(min(config.continuous_codes, 3))
    continuous = [sliders[index % len(sliders)].slider(
        _continuous_label(index, meanings), -SLIDER_RANGE, SLIDER_RANGE, 0.0, 0.1,
        key=f"{spec.name}.c{index + 2}", help=_("trained on [−1, 1]; beyond it the generator "
                                                "extrapolates"))
        for index in range(config.continuous_codes)]

    # Generation: the sample row and one traversal grid per continuous code.
    generator = torch.Generator().manual_seed(int(seed))
    z_row = torch.randn(SAMPLES, config.latent_dim, generator=generator)
    z_grid = z_row[:1]
    sweep = torch.linspace(-SLIDER_RANGE, SLIDER_RANGE, TRAVERSAL_COLUMNS)
    with one_thread():
        started = time.perf_counter()
        row = trainer.generate(trainer.latent(z_row, torch.full((SAMPLES,), value),
                                              torch.tensor([continuous] * SAMPLES)))
        grids = [trainer.traversal(z_grid, continuous, code, sweep)
                 for code in range(config.continuous_codes)]
        elapsed_ms = (time.perf_counter() - started) * 1000

    codes = ", ".join([f"c1 = {value}"] + [f"c{index + 2} = {v:+.1f}"
                                           for index, v in enumerate(continuous)])
    pictures.show(_picture(row, SAMPLES), _("{codes}, {count} z from seed {seed}").format(
        codes=codes, count=SAMPLES, seed=seed), download=f"infogan-c{value}")
    st.markdown(_("**Traversals** — rows: c1 = 0 … {last} (top to bottom); columns: one "
                  "continuous code from −2 to +2 (the outer columns are beyond the training "
                  "range), the others at the sliders' values; the first z of the seed.")
                .format(last=config.categories - 1))
    # One code a tab: a traversal is 8 images of 64 px a row, the view column's width.
    tabs = st.tabs([_("sweeping c{number} ({statistic})").format(
                        number=code + 2,
                        statistic=shown(meanings["continuous"][code]["statistic"]))
                    if meanings else _("sweeping c{number}").format(number=code + 2)
                    for code in range(len(grids))])
    for code, (tab, images) in enumerate(zip(tabs, grids)):
        pictures.show(_picture(images, TRAVERSAL_COLUMNS),
                      _("c{number}: {values} (left to right)").format(
                          number=code + 2, values=", ".join(f"{float(v):+.2g}" for v in sweep)),
                      container=tab)
    count = len(row) + sum(len(g) for g in grids)
    st.caption(ngettext("Generated {count} image in {ms:.0f} ms on one CPU thread.",
                        "Generated {count} images in {ms:.0f} ms on one CPU thread.", count)
               .format(count=count, ms=elapsed_ms))
    meanings_panel(meanings, config)


def meanings_panel(meanings: dict | None, config) -> None:
    st.markdown(_("**What each code learned** (measured, not assumed)"))
    if not meanings:
        st.info(_("Needs the shipped Fashion-MNIST CNN (checkpoints/cnn.pt) and grey images."))
        return
    left, right = st.columns([1.1, 1])
    with left:
        st.caption(_("Categorical code: the class the shipped CNN assigns most to {count:,} "
                     "samples per value (z and the continuous codes random). Purity "
                     "{purity:.0%}; {distinct} distinct classes.").format(
                         count=meanings["samples"] // config.categories,
                         purity=meanings["purity"], distinct=meanings["distinct_classes"]))
        st.dataframe(pd.DataFrame([{"c1": row["value"], _("class"): shown(row["class"]),
                                    _("share"): f"{row['share']:.0%}"}
                                   for row in meanings["categorical"]]),
                     hide_index=True, width="stretch")
    with right:
        st.caption(_("Continuous codes: rank correlation (Spearman) of simple image statistics "
                     "with the code along {sweeps} sweeps over [−1, 1], averaged; *pooled*: over "
                     "all swept images at once (z and c1 vary too).").format(
                         sweeps=meanings["sweeps"]))
        st.dataframe(pd.DataFrame([
            {_("code"): f"c{row['code'] + 2}", _("moves with"): shown(row["statistic"]),
             _("ρ along a sweep"): round(row["correlation"], 2),
             _("ρ pooled"): round(row["pooled"], 2),
             **{_(name): round(value, 2) for name, value in row["along_sweep"].items()}}
            for row in meanings["continuous"]]), hide_index=True, width="stretch")
