"""Plotly figures of the language-model page. Pure functions of the metrics (no widgets)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.i18n import _
from ui.charts import LAYOUT, log_ticks, series, titled

SMOOTHING_LABELS = {"kneser-ney": "Kneser-Ney", "add-k": "add-k"}


def _level(figure: go.Figure, x: list, y: float, name: str, color: str, dash: str = "dash",
           opacity: float = 1.0) -> None:
    """A horizontal reference as a legend entry (hline annotations misplace on log axes)."""
    figure.add_scatter(x=[min(x), max(x)], y=[y, y], mode="lines", name=name, opacity=opacity,
                       line=dict(color=color, dash=dash), hovertemplate=f"{name}<extra></extra>")


def ngram_curve_figure(curve: dict[str, list[float]], order: int,
                       neural: float | None = None) -> go.Figure:
    """Validation perplexity against n for each smoothing; the chosen n marked."""
    figure = go.Figure()
    for smoothing, values in curve.items():
        orders = list(range(1, len(values) + 1))
        figure.add_scatter(x=orders, y=values, mode="lines+markers",
                           name=_("{smoothing} n-gram").format(
                               smoothing=SMOOTHING_LABELS.get(smoothing, smoothing)))
    best = min(min(values) for values in curve.values())
    orders = [1, max(len(values) for values in curve.values())]
    figure.add_vline(x=order, line_dash="dot", line_color="grey")
    _level(figure, orders, best, _("best n-gram: {value:.2f}").format(value=best), "green")
    if neural is not None:
        _level(figure, orders, neural, _("neural model: {value:.2f}").format(value=neural),
               "crimson")
    values = [v for curve_values in curve.values() for v in curve_values] + \
        ([neural] if neural is not None else [])
    figure.update_layout(xaxis_title=_("n (the token depends on the previous n − 1)"),
                         yaxis_title=_("perplexity (log scale)"),
                         yaxis=dict(type="log", **log_ticks(values)), **LAYOUT)
    figure.update_xaxes(dtick=1)
    return titled(figure, _("Validation perplexity of an n-gram model, by n"),
                  _("chosen: n = {order}; lower is better").format(order=order))


def perplexity_figure(frame: pd.DataFrame, best_ngram: float | None = None,
                      references=()) -> go.Figure:
    """Train perplexity (per logging window) and validation perplexity (per epoch) by epoch."""
    figure = go.Figure()
    train = series(frame, "perplexity/train")
    val = series(frame, "perplexity/val")
    figure.add_scatter(x=train["epoch"], y=train["value"], mode="lines",
                       name=_("train (recent steps)"))
    figure.add_scatter(x=val["epoch"], y=val["value"], mode="lines+markers", name=_("validation"),
                       line=dict(width=3))
    epochs = pd.concat([train["epoch"], val["epoch"]])
    span = [0.0, float(epochs.max())] if len(epochs) else [0.0, 1.0]
    if best_ngram is not None:
        _level(figure, span, best_ngram,
               _("best n-gram, same split: {value:.2f}").format(value=best_ngram), "green")
    for reference, color in zip(references, ("grey", "silver", "darkgrey")):
        _level(figure, span, reference.value,
               _("{label}: {value:g}").format(label=_(reference.label), value=reference.value),
               color, "dot", 0.8)
    values = train["value"].tolist() + val["value"].tolist() + \
        ([best_ngram] if best_ngram is not None else []) + [r.value for r in references]
    figure.update_layout(title=_("Perplexity (lower is better)"), xaxis_title=_("epoch"),
                         yaxis_title=_("perplexity (log scale)"),
                         yaxis=dict(type="log", **log_ticks(values)), **LAYOUT)
    return figure


def token_figure(tokens_a: list[str], logs_a: list[float], tokens_b: list[str],
                 logs_b: list[float], model: str) -> go.Figure:
    """ln P of each token of two sentences side by side: where one reading wins or loses."""
    figure = go.Figure()
    for label, tokens, logs in (("A", tokens_a, logs_a), ("B", tokens_b, logs_b)):
        figure.add_bar(x=list(range(1, len(tokens) + 1)), y=logs, text=tokens,
                       textposition="outside", name=_("sentence {label}").format(label=label),
                       hovertemplate=_("token %{x}: %{text}<br>ln P %{y:.2f}<extra></extra>"))
    figure.update_layout(title=_("ln P of each token under the {model}").format(model=model),
                         barmode="group", xaxis_title=_("token position"),
                         yaxis_title=_("ln P (higher is likelier)"), **LAYOUT)
    return figure
