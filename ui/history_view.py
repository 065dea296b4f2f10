"""The *GANs compared* page: every shipped GAN on one protocol, sorted by the year of its paper
(``core/history.py`` reads the figures; this module only draws them)."""
from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import history
from core.i18n import _, current
from core.paths import shipped_checkpoint
from core.registry import MODELS
from ui.charts import LAYOUT, titled
from ui.pages import page


@st.cache_data(show_spinner=False)
def _rows(stamp: tuple, language: str) -> list[history.Row]:
    """The rows (their texts in ``language``, the page's: part of the cache's key)."""
    return history.rows(MODELS.values())


# A shipped checkpoint's "trained on" is data written in English at export ("CPU: 2 threads
# (2 cores), shared with other work", "GPU: NVIDIA H200, shared by 11 runs"): its phrases are said
# again in the page's language.
_DEVICE_PHRASES = (
    (re.compile(r"(\d+) threads? \((\d+) cores\)"),
     lambda m: _("{threads} threads ({cores} cores)").format(threads=m[1], cores=m[2])),
    (re.compile(r"(\d+) threads?\b"), lambda m: _("{threads} threads").format(threads=m[1])),
    (re.compile(r"(\d+) cores\b"), lambda m: _("{cores} cores").format(cores=m[1])),
    (re.compile(r"shared with other (?:work|jobs)"), lambda m: _("shared with other work")),
    (re.compile(r"shared by (\d+) runs"), lambda m: _("shared by {count} runs").format(
        count=m[1])),
)


def device_shown(text: str | None) -> str | None:
    """A checkpoint's "trained on" in the page's language (names and numbers as they are)."""
    if not text or current() == "en":
        return text
    for pattern, say in _DEVICE_PHRASES:
        text = pattern.sub(say, text)
    return text


def _stamp() -> tuple:
    """Changes when a shipped checkpoint does (a new export or stored figures)."""
    found = []
    for name in MODELS:
        path = shipped_checkpoint(name)
        found.append((name, path.stat().st_mtime if path.exists() else 0.0))
    return tuple(found)


@st.cache_data(show_spinner=False)
def _speeds(stamp: tuple) -> dict[str, float]:
    return {row.name: history.generator_speed(MODELS[row.name])
            for row in _rows(stamp, current())}


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


def _shown(value: float | None, form: str) -> str:
    """A figure as the table shows it: "—" where a model has none (st.dataframe writes None)."""
    return "—" if value is None else format(value, form)


def table(rows: list[history.Row], speeds: dict[str, float] | None) -> pd.DataFrame:
    """The table as the page shows it (its column headers in the page's language)."""
    frame = pd.DataFrame([{
        _("year"): str(row.year), _("model"): _(row.title), _("what it fixed"): row.fixed,
        _("classes covered (of 10)"): _shown(row.classes, ".0f"),
        _("Fréchet distance ↓"): _shown(row.frechet_distance, ".1f"),
        _("intended class"): _shown(row.intended_class, ".1%"),
        _("its own measure"): row.own_figure or "—",
        _("steps"): row.steps, _("trained on"): device_shown(row.trained_on) or "—",
        _("wall time"): _minutes(row.wall_seconds),
        _("G parameters"): row.generator_parameters,
        _("training images/s"): _shown(row.training_images_per_s, ",.0f"),
        _("images/s here (drawing)"): _shown((speeds or {}).get(row.name), ",.0f"),
        _("the paper's claim (its dataset)"): row.papers_claim or "—",
        _("paper"): row.cite,
    } for row in rows])
    return frame


def fd_figure(rows: list[history.Row]) -> go.Figure:
    """Fréchet distance per model, in the order of the papers, with the DCGAN's as the bar."""
    shown = [row for row in rows if row.frechet_distance is not None
             and row.classes is not None]     # the unconditional protocol (not translations)
    figure = go.Figure()
    labels = [f"{_(row.title)} ({row.year})" for row in shown]
    colours = ["#2e7d32" if row.baseline else "#1f77b4" for row in shown]
    figure.add_bar(x=labels, y=[row.frechet_distance for row in shown], marker_color=colours,
                   text=[f"{row.frechet_distance:.1f}" for row in shown], textposition="outside",
                   hovertemplate="%{x}: %{y:.2f}<extra></extra>", name=_("Fréchet distance"))
    bar = history.baseline(shown)
    if bar is not None and bar.frechet_distance is not None:
        figure.add_scatter(x=labels, y=[bar.frechet_distance] * len(labels), mode="lines",
                           line=dict(color="#2e7d32", dash="dash", width=1.5),
                           name=_("the {model}'s {fd:.1f}: the bar to beat").format(
                               model=_(bar.title), fd=bar.frechet_distance),
                           hoverinfo="skip")
    figure.update_layout(**{**LAYOUT, "height": 420},
                         yaxis_title=_("Fréchet distance (lower is better)"), showlegend=True)
    return titled(figure, _("Fréchet distance of each shipped GAN, oldest paper first"),
                  _("10,000 samples, the shipped CNN's features at 32 px: comparable across this "
                    "table, not with a paper's FID"))


def verdicts(rows: list[history.Row]) -> list[str]:
    """What the table says about the later GANs against the DCGAN, in sentences."""
    dcgan = history.baseline(rows)
    if dcgan is None or dcgan.frechet_distance is None:
        return []
    said = []
    for row in rows:
        if row.year <= dcgan.year or row.frechet_distance is None or row.classes is None:
            continue
        better = row.frechet_distance < dcgan.frechet_distance
        values = dict(model=_(row.title), year=row.year, fd=row.frechet_distance,
                      baseline=_(dcgan.title), baseline_fd=dcgan.frechet_distance,
                      classes=row.classes, steps=row.steps,
                      trained=f" ({device_shown(row.trained_on)})" if row.trained_on else "")
        if better:
            said.append(_("**{model}** ({year}): Fréchet distance {fd:.1f} against the "
                          "{baseline}'s {baseline_fd:.1f} — past the {baseline}, {classes:.0f} of "
                          "10 classes, {steps:,} steps{trained}.").format(**values))
        else:
            said.append(_("**{model}** ({year}): Fréchet distance {fd:.1f} against the "
                          "{baseline}'s {baseline_fd:.1f} — **still behind** the {baseline}, "
                          "{classes:.0f} of 10 classes, {steps:,} steps{trained}.").format(**values))
    return said


def history_page() -> None:
    st.title(_("GANs compared: the history, measured"))
    st.markdown(_(
        "The tutorial tells the GAN story as a series of fixes: each model after the DCGAN "
        "repaired something the ones before could not do. Here is every **shipped** GAN of this "
        "app on one protocol, oldest paper first, so you can check whether each fix paid off "
        "*here* — on Fashion-MNIST, at the step counts these small models got."))
    rows = _rows(_stamp(), current())
    if not rows:
        st.info(_("No shipped GAN checkpoints in `checkpoints/`: `make checkpoints` makes them."))
        return
    speeds = st.session_state.get("history_speeds")
    st.dataframe(
        table(rows, speeds), hide_index=True, width="stretch",
        column_config={
            _("G parameters"): st.column_config.NumberColumn(format="localized"),
            _("steps"): st.column_config.NumberColumn(format="localized"),
            _("what it fixed"): st.column_config.TextColumn(width="large"),
        })
    st.caption(_(
        "**How it is measured.** `python -m core.cli evaluate checkpoints/<model>.pt` (stored in "
        "the file with `--store`, so it reads back at once): 10,000 samples judged by the "
        "shipped CNN. *Classes covered* counts the classes the CNN finds among them; the "
        "*Fréchet distance* compares their features with the training images' in the same CNN "
        "at 32 px — comparable across this table, **not** with a paper's FID (Inception "
        "features, other datasets); *intended class* (conditional GANs) is the share the CNN "
        "reads as the class asked for: it measures how recognisable a drawing is, not how "
        "faithful. pix2pix and CycleGAN translate images, so their own measure stands in. The "
        "papers' claims are on their datasets (ImageNet 128 px, …): context, not targets."))
    if st.button(_("Time each generator on this machine"), key="history_time",
                 help=_("Draws batches of 64 images with each shipped generator here and reports "
                        "the best of three (a few seconds in all).")):
        with st.spinner(_("Timing the generators …")):
            st.session_state["history_speeds"] = _speeds(_stamp())
        st.rerun()
    st.plotly_chart(fd_figure(rows), width="stretch")
    said = verdicts(rows)
    if said:
        st.subheader(_("What the table says"))
        st.markdown("\n".join(f"- {line}" for line in said))
    st.subheader(_("Each model's page"))
    columns = st.columns(3)
    for index, row in enumerate(rows):
        with columns[index % 3]:
            st.page_link(page(row.name), label=f"{_(row.title)} ({row.year}): {row.cite}",
                         icon=MODELS[row.name].icon)
