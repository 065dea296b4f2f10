"""Metrics DataFrame -> plotly figures shared by the pages. Pure functions (no widgets); a model's
own figures live in its panel (ui/panels/)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=360, template="plotly_white",
              legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0))


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


def lines(frame: pd.DataFrame, names: dict[str, str], title: str, yaxis: str,
           smooth: bool = False) -> go.Figure:
    figure = go.Figure()
    for name, label in names.items():
        rows = series(frame, name)
        values = rows["value"]
        if smooth and len(rows) > 30:
            values = values.rolling(max(3, len(rows) // 40), min_periods=1).mean()
        figure.add_scatter(x=rows["step"], y=values, mode="lines", name=label)
    figure.update_layout(title=title, xaxis_title="step", yaxis_title=yaxis, **LAYOUT)
    return figure


def gan_loss_figure(frame: pd.DataFrame, thresholds) -> go.Figure:
    """Loss_D and Loss_G with the tutorial's healthy bands shaded."""
    figure = lines(frame, {"loss/discriminator": "Loss_D", "loss/generator": "Loss_G"},
                    "Losses (shaded: the tutorial's healthy bands)", "BCE loss")
    for (low, high), colour, label in ((thresholds.d_loss_band, "rgba(31,119,180,0.12)", "D band"),
                                       (thresholds.g_loss_band, "rgba(255,127,14,0.10)", "G band")):
        figure.add_hrect(y0=low, y1=high, fillcolor=colour, line_width=0,
                         annotation_text=f"{label} {low}–{high}", annotation_position="top left",
                         annotation_font_size=10)
    return figure


def d_outputs_figure(frame: pd.DataFrame) -> go.Figure:
    figure = lines(frame, {"d/real": "D(x)", "d/fake_before_g": "D(G(z)) before G step",
                            "d/fake_after_g": "D(G(z)) after G step"},
                    "Discriminator outputs", "mean probability 'real'")
    figure.update_layout(yaxis_range=[0, 1])
    return figure


def d_accuracy_figure(frame: pd.DataFrame, healthy: float) -> go.Figure:
    figure = lines(frame, {"d_accuracy/real": "on real", "d_accuracy/fake": "on fake",
                            "d_accuracy/mean": "mean"}, "Discriminator accuracy", "accuracy")
    figure.add_hline(y=healthy, line_dash="dash", line_color="gray",
                     annotation_text=f"tutorial: ≈{healthy:.0%} when stable",
                     annotation_font_size=10)
    figure.update_layout(yaxis_range=[0, 1.02], yaxis_tickformat=".0%")
    return figure


def grad_norm_figure(frame: pd.DataFrame) -> go.Figure:
    figure = lines(frame, {"grad_norm/discriminator": "D", "grad_norm/generator": "G"},
                    "Gradient norms", "L2 norm (log)")
    figure.update_layout(yaxis_type="log")
    return figure


def diversity_figure(frame: pd.DataFrame, collapse_below: float) -> go.Figure:
    figure = go.Figure()
    diversity = series(frame, "diversity/ratio")
    figure.add_scatter(x=diversity["step"], y=diversity["value"], mode="lines",
                       name="diversity (generated / real)")
    covered = series(frame, "classes/covered")
    if not covered.empty:
        figure.add_scatter(x=covered["step"], y=covered["value"], mode="lines+markers",
                           name="classes covered (of 10)", yaxis="y2")
    figure.add_hline(y=collapse_below, line_dash="dash", line_color="firebrick",
                     annotation_text="collapse below", annotation_font_size=10)
    figure.update_layout(title="Sample diversity", xaxis_title="step",
                         yaxis=dict(title="pairwise-distance ratio", rangemode="tozero"),
                         yaxis2=dict(title="classes", overlaying="y", side="right", range=[0, 10.5]),
                         **LAYOUT)
    return figure
