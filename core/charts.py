"""Metrics DataFrame -> plotly figures. Pure functions: no Streamlit here."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=320, template="plotly_white",
              legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1))


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
    figure.add_scatter(x=train["step"], y=train["value"], mode="lines", name="train loss (per step)")
    if len(train) > 20:  # a moving average shows the trend under the noise
        smooth = train["value"].rolling(max(3, len(train) // 25), min_periods=1).mean()
        figure.add_scatter(x=train["step"], y=smooth, mode="lines", name="train loss (smoothed)",
                           line=dict(width=3))
    figure.add_scatter(x=test["step"], y=test["value"], mode="lines+markers", name="test loss")
    figure.update_layout(title="Loss", xaxis_title="step", yaxis_title="cross-entropy", **LAYOUT)
    return figure


def accuracy_figure(frame: pd.DataFrame, references=()) -> go.Figure:
    """Train and test accuracy per epoch, with reference accuracies as dashed lines."""
    figure = go.Figure()
    for name, label in (("accuracy/train_epoch", "train (epoch mean)"), ("accuracy/test", "test")):
        rows = series(frame, name)
        figure.add_scatter(x=rows["epoch"], y=rows["value"], mode="lines+markers", name=label)
    for reference in references:
        figure.add_hline(y=reference.value, line_dash="dash", line_color="gray",
                         annotation_text=f"{reference.label}: {reference.value:.1%} ({reference.source})",
                         annotation_position="bottom right", annotation_font_size=10)
    figure.update_layout(title="Accuracy per epoch", xaxis_title="epoch", yaxis_title="accuracy",
                         yaxis_tickformat=".0%", **LAYOUT)
    return figure


def confusion_figure(confusion, class_names) -> go.Figure:
    """Heatmap of row-normalised counts (rows: true class, columns: predicted)."""
    counts = pd.DataFrame(confusion, index=class_names, columns=class_names)
    share = counts.div(counts.sum(axis=1).clip(lower=1), axis=0)
    figure = go.Figure(go.Heatmap(
        z=share.values, x=list(class_names), y=list(class_names), colorscale="Blues",
        zmin=0, zmax=1, text=counts.values, texttemplate="%{text}",
        hovertemplate="true %{y}<br>predicted %{x}<br>%{text} images (%{z:.1%})<extra></extra>"))
    figure.update_layout(title="Confusion matrix (colour: share of the true class)",
                         xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed",
                         **{**LAYOUT, "height": 480})
    return figure


def per_class_figure(confusion, class_names) -> go.Figure:
    counts = pd.DataFrame(confusion, index=class_names, columns=class_names)
    accuracy = pd.Series([counts.iat[i, i] for i in range(len(class_names))], index=class_names) \
        / counts.sum(axis=1).clip(lower=1)
    figure = go.Figure(go.Bar(x=list(class_names), y=accuracy.values,
                              text=[f"{v:.1%}" for v in accuracy.values], textposition="outside"))
    figure.update_layout(title="Per-class test accuracy", yaxis_tickformat=".0%",
                         yaxis_range=[0, 1.08], **LAYOUT)
    return figure
