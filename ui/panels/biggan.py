"""BigGAN's page: the class explorer with the truncation trick (ψ), class interpolation, the
fidelity/diversity curve measured on the loaded model, and the attention viewer."""
from __future__ import annotations

import time

import plotly.graph_objects as go
import streamlit as st
import torch

from core import gan_eval
from core.data.fashion_mnist import DataUnavailable
from core.i18n import N_, _
from core import figures
from core.models.gans.biggan import CURVE_PER_CLASS, page_truncation_curve
from core.models.gans.conditional import TRUNCATION_VALUES
from ui import charts, pictures, state
from ui.panels.conditional import (ConditionalGANPanel, attention_viewer, class_names, is_fashion,
                                   one_thread, picture)

STEPS = 8                  # columns of a class interpolation
ROWS = 4                   # z of a class interpolation
# The select's values (kept in English: links and tests name them); shown through _().
PAIRS = {N_("T-shirt/top → Dress"): (0, 3), N_("Sneaker → Ankle boot"): (7, 9),
         N_("Shirt → Coat"): (6, 4), N_("Sandal → Sneaker"): (5, 7),
         N_("Trouser → Dress"): (1, 3)}
OTHER_PAIR = N_("Other pair")


def curve_figure(rows: list[dict]) -> go.Figure:
    """Fidelity against diversity as ψ varies, on one chart: intended-class accuracy and the
    diversity within a class (left axis), the Fréchet distance (right axis)."""
    psi = [row["psi"] for row in rows]
    figure = go.Figure()
    figure.add_scatter(x=psi, y=[row["intended_accuracy"] for row in rows], mode="lines+markers",
                       name=_("intended-class accuracy (recognisable as its class)"))
    figure.add_scatter(x=psi, y=[row["class_diversity"] for row in rows], mode="lines+markers",
                       name=_("diversity within a class (× real)"))
    figure.add_scatter(x=psi, y=[row["frechet_distance"] for row in rows], mode="lines+markers",
                       name=_("Fréchet distance (right axis)"), yaxis="y2",
                       line=dict(dash="dot"))
    figure.update_layout(xaxis=dict(title=_("ψ (truncation threshold)"), tickvals=psi),
                         yaxis=dict(title=_("accuracy / diversity ratio"), rangemode="tozero"),
                         yaxis2=dict(title=_("Fréchet distance (lower is better)"),
                                     overlaying="y", side="right", rangemode="tozero"),
                         legend=dict(orientation="h", y=-0.25), height=440,
                         margin=dict(l=50, r=50, t=50, b=40))
    return charts.titled(figure, _("The truncation trick, measured"),
                         _("on this model: fidelity against diversity as ψ varies"))


@st.cache_resource(show_spinner=False, max_entries=8)
def _curve(key: str, _model) -> tuple[list[dict], float] | None:
    """The curve for a loaded model, once per process: (rows, seconds) or None without the
    shipped CNN and Fashion-MNIST."""
    judge = gan_eval.shipped_judge()
    if judge is None:
        return None
    data = state.images()
    started = time.perf_counter()
    with one_thread():
        rows = page_truncation_curve(_model, judge, data)
    return (rows, time.perf_counter() - started) if rows else None


def curve_for(payload: dict, key: str, model) -> tuple[list[dict], float | None] | None:
    """Stored with the checkpoint at export (``core.cli evaluate --store``), or measured now."""
    rows = figures.stored(payload, "truncation_curve")
    if rows:
        return rows, None
    # The spinner in the page's language (a cache decorator's text is fixed at import).
    with st.spinner(_("Measuring the truncation curve on this model ...")):
        return _curve(key, model)


class BigGANPanel(ConditionalGANPanel):

    truncation = True

    def explorer_extras(self, model, key: str) -> None:
        if not model.class_count:
            return
        self.class_interpolation(model)
        self.truncation_panel(model, key)
        if model.config.self_attention:
            with st.expander(_("Attention viewer (BigGAN's attention block at 16×16)")):
                attention_viewer(self, model, key)

    def class_interpolation(self, model) -> None:
        """Morph between two classes: the class vector moves from one one-hot to the other at
        fixed z, so the shared class embedding is interpolated."""
        st.subheader(_("Class interpolation"))
        names = class_names(model)
        pairs = {label: pair for label, pair in PAIRS.items()
                 if is_fashion(model)} or {f"{names[0]} → {names[1]}": (0, 1)}
        first, second, third = st.columns([2, 2, 1])
        choice = first.selectbox(_("From → to"), [*pairs, OTHER_PAIR], format_func=_,
                                 key=self.key("pair"))
        if choice == OTHER_PAIR:
            columns = second.columns(2)
            start = columns[0].selectbox(_("From"), list(range(model.class_count)),
                                         format_func=lambda index: names[index],
                                         key=self.key("from"))
            end = columns[1].selectbox(_("To"), list(range(model.class_count)), index=1,
                                       format_func=lambda index: names[index],
                                       key=self.key("to"))
        else:
            start, end = pairs[choice]
            second.caption(_("Each row: one z; left to right, the class vector goes from one "
                             "one-hot to the other (the shared class embedding interpolated)."))
        seed = third.number_input(_("Seed"), 0, 2**31 - 1, 0,
                                  key=self.key("interpolation_seed"))
        psi = st.session_state.get(self.key("psi"), 0.5) \
            if st.session_state.get(self.key("truncate"), True) else None
        with one_thread():
            z = model.sample_z(ROWS, torch.Generator().manual_seed(int(seed)), psi)
            images = model.class_interpolation(start, end, z, STEPS)
        pictures.show(picture(images, STEPS))
        if psi:
            st.caption(_("{start} → {end}, {rows} z from seed {seed}, ψ = {psi:g}").format(
                start=names[start], end=names[end], rows=ROWS, seed=seed, psi=psi))
        else:
            st.caption(_("{start} → {end}, {rows} z from seed {seed}, no truncation").format(
                start=names[start], end=names[end], rows=ROWS, seed=seed))

    def truncation_panel(self, model, key: str) -> None:
        st.subheader(_("Fidelity against diversity: the truncation trick, measured"))
        try:
            measured = curve_for(getattr(self, "payload", {}), key, model)
        except DataUnavailable:
            measured = None
        if measured is None:
            st.info(_("Needs the shipped Fashion-MNIST CNN (checkpoints/cnn.pt), Fashion-MNIST "
                      "and a 10-class grey model."))
            return
        rows, seconds = measured
        charts.plot(curve_figure(rows), self.key("curve"))
        by_psi = {row["psi"]: row for row in rows}
        low, full = by_psi.get(0.5), by_psi.get(1.0)
        summary = ""
        if low and full:
            summary = " " + _(
                "At ψ = 0.5 against ψ = 1: intended-class accuracy {accuracy_low:.1%} vs "
                "{accuracy_full:.1%}, diversity within a class {diversity_low:.2f} vs "
                "{diversity_full:.2f} × real, Fréchet distance {frechet_low:.1f} vs "
                "{frechet_full:.1f}.").format(
                    accuracy_low=low["intended_accuracy"], accuracy_full=full["intended_accuracy"],
                    diversity_low=low["class_diversity"], diversity_full=full["class_diversity"],
                    frechet_low=low["frechet_distance"], frechet_full=full["frechet_distance"])
        measured_when = (_("Measured when this checkpoint was exported and stored in it")
                         if seconds is None else
                         _("Measured once for this model ({seconds:.0f} s)").format(
                             seconds=seconds))
        st.caption(_("For ψ in {values}: {per_class} samples per class, judged by the shipped CNN "
                     "(accuracy: the share it labels with the class G was asked for; diversity: "
                     "the mean pairwise distance within a class over that of real test images of "
                     "the class; Fréchet distance to as many test images, in the CNN's "
                     "features). {measured}; {sample_note}. {frechet_scope}; {intended_scope}. "
                     "On this model the Fréchet distance is lowest without truncation: a fact "
                     "about this checkpoint, not a rule.").format(
                         values=", ".join(f"{v:g}" for v in TRUNCATION_VALUES),
                         per_class=CURVE_PER_CLASS, measured=measured_when,
                         sample_note=gan_eval.sample_size_note(CURVE_PER_CLASS, 1000),
                         frechet_scope=_(gan_eval.FRECHET_SCOPE),
                         intended_scope=_(gan_eval.INTENDED_SCOPE)) + summary)
