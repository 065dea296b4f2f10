"""Metrics DataFrame -> plotly figures shared by the pages. Pure functions (no widgets); a model's
own figures live in its panel (ui/panels/).

Words are translated where a chart is drawn: the texts passed to ``titled``, ``lines`` and
``reference_line`` go through ``_()`` here too (a caller's text marked ``N_`` is translated; one
already translated, or numbers, come out as they went in)."""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.i18n import N_, _

# Plotly's toolbar appears over the top right corner of a chart on hover: the title sits in a
# band below it (TOOLBAR px from the top), so the toolbar never covers it.
TOOLBAR = 30
TOP = 92                     # top margin: the toolbar's band, a title and a subtitle
# The first two colours are D's and G's lines (blue, orange), as the bands and the words say.
BLUE, ORANGE = "#1f77b4", "#ff7f0e"
COLOURS = [BLUE, ORANGE, "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]
LAYOUT = dict(margin=dict(l=10, r=10, t=TOP, b=10), height=400, template="plotly_white",
              colorway=COLOURS,
              legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0))
CONFIG = {"displaylogo": False, "displayModeBar": "hover"}
D_BAND = "rgba(31,119,180,0.20)"


def titled(figure: go.Figure, title: str, subtitle: str = "") -> go.Figure:
    """A short title that fits a half-width chart, and the detail as a smaller line under it."""
    figure.update_layout(title=dict(text=_(title),
                                    subtitle=dict(text=_(subtitle)) if subtitle else None))
    return figure


def readable(figure: go.Figure) -> go.Figure:
    """A chart's title (and subtitle) below the band plotly's toolbar takes on hover, with the top
    margin they need."""
    title = figure.layout.title
    if not (title.text or (title.subtitle and title.subtitle.text)):
        return figure
    subtitle = title.subtitle.text if title.subtitle and title.subtitle.text else ""
    lines = 1 + (title.text or "").count("<br>")
    lines += (1 + subtitle.count("<br>")) if subtitle else 0
    top = TOOLBAR + 24 * lines + 16
    figure.update_layout(title=dict(yref="container", y=1, yanchor="top", pad=dict(t=TOOLBAR)),
                         margin=dict(t=max(top, figure.layout.margin.t or 0)))
    return figure


def plot(figure: go.Figure, key: str, container=None, **options) -> None:
    """Draw a chart on the page (``container``: a column, or the page) with its title clear of
    the toolbar (``readable``) and the app's toolbar settings."""
    where = container if container is not None else st
    config = {**CONFIG, **options.pop("config", {})}
    if config.get("displayModeBar") is not False:     # no toolbar: no band to keep clear
        readable(figure)
    where.plotly_chart(figure, key=key, config=config, **options)


def bands(figure: go.Figure, d_band, g_band) -> None:
    """D's and G's healthy loss bands in their lines' colours, named in the legend: D's shaded
    blue, G's between two orange dashed lines (G's band holds D's: two shadings on top of each
    other would mix into grey)."""
    low, high = d_band
    figure.add_hrect(y0=low, y1=high, fillcolor=D_BAND, line_width=0, layer="below")
    figure.add_scatter(x=[None], y=[None], mode="markers", name=_("D's healthy band {low:g}–{high:g}").format(low=low, high=high),
                       marker=dict(symbol="square", size=14, color=D_BAND), hoverinfo="skip")
    low, high = g_band
    for level in (low, high):
        figure.add_hline(y=level, line=dict(color=ORANGE, dash="dash", width=1.5))
    figure.add_scatter(x=[None], y=[None], mode="lines", name=_("G's healthy band {low:g}–{high:g}").format(low=low, high=high),
                       line=dict(color=ORANGE, dash="dash", width=1.5), hoverinfo="skip")


BANDS = N_("shaded blue: D's healthy band; between the orange dashes: G's")   # shown via _()


def log_ticks(values) -> dict:
    """Tick values and labels for a log axis over ``values``: 1, 2 and 5 of each power of ten
    in the range, written out ("200", "0.05"), so a reader sees the magnitude of every tick."""
    values = [float(v) for v in values if v is not None and math.isfinite(float(v)) and v > 0]
    if not values:
        return {}
    low, high = min(values), max(values)
    mantissas = (1, 2, 5) if high / low >= 5 else (1, 1.5, 2, 3, 4, 5, 6, 8)   # a narrow range
    ticks = [m * 10.0 ** e for e in range(math.floor(math.log10(low)) - 1,
                                          math.ceil(math.log10(high)) + 1) for m in mantissas]
    inside = [t for t in ticks if low / 1.6 <= t <= high * 1.6]
    if len(inside) > 9:   # a wide range: powers of ten only
        inside = [t for t in inside if math.log10(t).is_integer()] or inside[::3]
    return dict(tickvals=inside, ticktext=[f"{t:g}" for t in inside])


def reference_line(figure: go.Figure, x: list, y: float, name: str, color: str = "gray",
                   dash: str = "dash") -> None:
    """A horizontal reference as a legend entry: an annotation on the line clips and overlaps
    the curves in a half-width chart."""
    name = _(name)
    figure.add_scatter(x=[min(x), max(x)] if len(x) else [0, 1], y=[y, y], mode="lines",
                       name=name, line=dict(color=color, dash=dash, width=1.5),
                       hovertemplate=f"{name}<extra></extra>")


def series(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Rows of one metric, sorted by step, last value per step kept."""
    if frame.empty:
        return frame
    rows = frame[frame["name"] == name].copy()
    rows["step"] = pd.to_numeric(rows["step"], errors="coerce")
    rows["epoch"] = pd.to_numeric(rows["epoch"], errors="coerce")
    rows["value"] = pd.to_numeric(rows["value"], errors="coerce")
    return rows.dropna(subset=["step", "value"]).drop_duplicates("step", keep="last").sort_values("step")


def loss_figure(frame: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    train = series(frame, "loss/train")
    test = series(frame, "loss/test")
    figure.add_scatter(x=train["step"], y=train["value"], mode="lines",
                       name=_("train loss (per step)"))
    if len(train) > 20:  # a moving average shows the trend under the noise
        smooth = train["value"].rolling(max(3, len(train) // 25), min_periods=1).mean()
        figure.add_scatter(x=train["step"], y=smooth, mode="lines", name=_("train loss (smoothed)"),
                           line=dict(width=3))
    figure.add_scatter(x=test["step"], y=test["value"], mode="lines+markers", name=_("test loss"))
    figure.update_layout(title=_("Loss"), xaxis_title=_("step"), yaxis_title=_("cross-entropy"),
                         **LAYOUT)
    return figure


def accuracy_figure(frame: pd.DataFrame, references=()) -> go.Figure:
    """Train and test accuracy per epoch, with reference accuracies as dashed lines."""
    figure = go.Figure()
    for name, label in (("accuracy/train_epoch", N_("train (epoch mean)")),
                        ("accuracy/test", N_("test"))):
        rows = series(frame, name)
        figure.add_scatter(x=rows["epoch"], y=rows["value"], mode="lines+markers", name=_(label))
    epochs = [float(e) for name in ("accuracy/train_epoch", "accuracy/test")
              for e in series(frame, name)["epoch"]] if not frame.empty else []
    span = [0.0, max(epochs + [1.0])]
    for reference, color in zip(references, ("gray", "darkgray", "silver")):
        reference_line(figure, span, reference.value,
                       _("{label}: {value:.1%}").format(label=_(reference.label),
                                                        value=reference.value), color)
    # Before the first epochs the values sit close together: a range of at least 10 points keeps
    # the ticks distinct (not "84% 84% 84%").
    shown = [v for name in ("accuracy/train_epoch", "accuracy/test")
             for v in series(frame, name)["value"]] if not frame.empty else []
    shown += [reference.value for reference in references]
    low = max(0.0, min(shown + [0.9]) - 0.03)
    figure.update_layout(xaxis_title=_("epoch"), yaxis_title=_("accuracy"),
                         yaxis=dict(tickformat=".0%", range=[min(low, 0.9), 1.0]), **LAYOUT)
    return titled(figure, N_("Accuracy per epoch"),
                  N_("dashed: published and the tutorial's figures"))


def confusion_figure(confusion, class_names) -> go.Figure:
    """Heatmap of row-normalised counts (rows: true class, columns: predicted)."""
    counts = pd.DataFrame(confusion, index=class_names, columns=class_names)
    share = counts.div(counts.sum(axis=1).clip(lower=1), axis=0)
    figure = go.Figure(go.Heatmap(
        z=share.values, x=list(class_names), y=list(class_names), colorscale="Blues",
        zmin=0, zmax=1, text=counts.values, texttemplate="%{text}",
        hovertemplate=_("true %{y}<br>predicted %{x}<br>%{text} images (%{z:.1%})")
        + "<extra></extra>"))
    figure.update_layout(title=_("Confusion matrix (colour: share of the true class)"),
                         xaxis_title=_("predicted"), yaxis_title=_("true"),
                         yaxis_autorange="reversed",
                         **{**LAYOUT, "height": 480})
    return figure


def per_class_figure(confusion, class_names) -> go.Figure:
    counts = pd.DataFrame(confusion, index=class_names, columns=class_names)
    accuracy = pd.Series([counts.iat[i, i] for i in range(len(class_names))], index=class_names) \
        / counts.sum(axis=1).clip(lower=1)
    figure = go.Figure(go.Bar(x=list(class_names), y=accuracy.values,
                              text=[f"{v:.1%}" for v in accuracy.values], textposition="outside"))
    figure.update_layout(title=_("Per-class test accuracy"), yaxis_tickformat=".0%",
                         yaxis_range=[0, 1.08], **LAYOUT)
    return figure


def lines(frame: pd.DataFrame, names: dict[str, str], title: str, yaxis: str,
          smooth: bool = False, subtitle: str = "") -> go.Figure:
    figure = go.Figure()
    for name, label in names.items():
        rows = series(frame, name)
        values = rows["value"]
        if smooth and len(rows) > 30:
            values = values.rolling(max(3, len(rows) // 40), min_periods=1).mean()
        figure.add_scatter(x=rows["step"], y=values, mode="lines", name=_(label))
    figure.update_layout(xaxis_title=_("step"), yaxis_title=_(yaxis), **LAYOUT)
    return titled(figure, title, subtitle)


def gan_loss_figure(frame: pd.DataFrame, thresholds, equilibrium: float | None = None,
                    loss_name: str = N_("BCE loss")) -> go.Figure:
    """Loss_D and Loss_G with the healthy bands shaded (and D's loss at equilibrium dotted)."""
    figure = lines(frame, {"loss/discriminator": "Loss_D", "loss/generator": "Loss_G"},
                   N_("Losses"), loss_name)
    bands(figure, thresholds.d_loss_band, thresholds.g_loss_band)
    steps = series(frame, "loss/discriminator")["step"].tolist() if not frame.empty else []
    if equilibrium is not None:
        reference_line(figure, steps, equilibrium,
                       _("D at chance: {value:.2f}").format(value=equilibrium), "gray", "dot")
    return titled(figure, N_("Losses"), BANDS)


def d_outputs_figure(frame: pd.DataFrame) -> go.Figure:
    figure = lines(frame, {"d/real": "D(x)", "d/fake_before_g": N_("D(G(z)) before G step"),
                            "d/fake_after_g": N_("D(G(z)) after G step")},
                    N_("Discriminator outputs"), N_("mean probability 'real'"))
    figure.update_layout(yaxis_range=[0, 1])
    return figure


def d_accuracy_figure(frame: pd.DataFrame, healthy: float) -> go.Figure:
    figure = lines(frame, {"d_accuracy/real": N_("on real"), "d_accuracy/fake": N_("on fake"),
                           "d_accuracy/mean": N_("mean")}, N_("Discriminator accuracy"),
                   N_("accuracy"))
    steps = series(frame, "d_accuracy/mean")["step"].tolist() if not frame.empty else []
    reference_line(figure, steps, healthy,
                   _("tutorial: ≈{share:.0%} when stable").format(share=healthy))
    reference_line(figure, steps, 0.5, N_("chance: 50%"), "silver", "dot")
    figure.update_layout(yaxis_range=[0, 1.02], yaxis_tickformat=".0%")
    return figure


def grad_norm_figure(frame: pd.DataFrame) -> go.Figure:
    figure = lines(frame, {"grad_norm/discriminator": "D", "grad_norm/generator": "G"},
                   N_("Gradient norms"), N_("L2 norm (log scale)"))
    values = [v for name in ("grad_norm/discriminator", "grad_norm/generator")
              for v in series(frame, name)["value"]] if not frame.empty else []
    figure.update_layout(yaxis=dict(type="log", **log_ticks(values)))
    return figure


def diversity_figure(frame: pd.DataFrame, collapse_below: float,
                     nearest_below: float | None = None) -> go.Figure:
    """The evidence of the monitor's mode-collapse rules: the samples' diversity (mean pairwise
    distance) and, when logged, their nearest-neighbour distance, each as a ratio to real images
    with the line it calls collapse (log scale: the near-duplicate line sits near 0.02), and the
    classes the shipped CNN finds among them."""
    figure = go.Figure()
    diversity = series(frame, "diversity/ratio")
    nearest = series(frame, "diversity/nearest")
    figure.add_scatter(x=diversity["step"], y=diversity["value"], mode="lines",
                       name=_("diversity (mean pairwise distance, generated / real)"),
                       line=dict(color=BLUE))
    steps = diversity["step"].tolist() if not diversity.empty else []
    reference_line(figure, steps, collapse_below,
                   _("diversity: collapse below {value:g}").format(value=collapse_below), BLUE)
    ratios = diversity["value"].tolist() + [collapse_below]
    if not nearest.empty:
        figure.add_scatter(x=nearest["step"], y=nearest["value"], mode="lines",
                           name=_("nearest neighbour (distance, generated / real)"),
                           line=dict(color="firebrick"))
        ratios += nearest["value"].tolist()
        if nearest_below is not None:
            reference_line(figure, nearest["step"].tolist(), nearest_below,
                           _("near-duplicates below {value:g}").format(value=nearest_below),
                           "firebrick")
            ratios.append(nearest_below)
    covered = series(frame, "classes/covered")
    if not covered.empty:
        figure.add_scatter(x=covered["step"], y=covered["value"],
                           mode="lines+markers" if len(covered) <= 30 else "lines",
                           name=_("classes covered (of 10, right axis)"), yaxis="y2",
                           line=dict(color="#2ca02c"))
    log = not nearest.empty
    figure.update_layout(xaxis_title=_("step"),
                         yaxis=dict(title=_("ratio to real images (log)") if log
                                    else _("ratio to real images"),
                                    **(dict(type="log", **log_ticks(ratios)) if log
                                       else dict(rangemode="tozero"))),
                         yaxis2=dict(title=_("classes"), overlaying="y", side="right",
                                     range=[0, 10.5],
                                     tickvals=[0, 2, 4, 6, 8, 10], showgrid=False),
                         **{**LAYOUT, "height": 440})
    return titled(figure, N_("Sample diversity"),
                  N_("the mode-collapse evidence: each ratio against its dashed line") if log
                  else N_("dashed: where the monitor calls collapse"))
