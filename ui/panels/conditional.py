"""What the class-conditional GAN pages share (SAGAN, BigGAN): the hinge-loss charts with the
monitor's own bands, the intended-class accuracy, a class explorer (a class, a seed, a class ×
seed grid) in place of the seed explorer, and the attention viewer."""
from __future__ import annotations

import contextlib
import functools

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch

from core import gan_eval
from core.data.fashion_mnist import CLASS_NAMES
from core.images import grid, png_bytes
from core.models.gans.base import to_uint8
from ui import charts
from ui.adversarial_views import SCALE, model_for, source_payload
from ui.gan_views import GANPanel

ROW = 8            # samples of the chosen class
GRID_SEEDS = 8     # columns of the class × seed grid
PIXEL = 7          # screen pixels per image pixel in the attention viewer's clickable image


@contextlib.contextmanager
def one_thread():
    """Draw on one thread: a page's small forward passes gain nothing from a second one, and on a
    busy 2-core machine waiting for it costs more (torch's thread count is per thread, so a
    training job's threads keep theirs)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def class_names(model) -> list[str]:
    """Fashion-MNIST's names for a 10-class grey model, else "class k"."""
    if model.class_count == len(CLASS_NAMES) and model.image_shape[0] == 1:
        return list(CLASS_NAMES)
    return [f"class {index}" for index in range(model.class_count)]


# Charts ----------------------------------------------------------------------------------------

def hinge_loss_figure(frame: pd.DataFrame, thresholds) -> go.Figure:
    """Loss_D and Loss_G with the hinge monitor's bands (not the tutorial's BCE bands)."""
    figure = charts.lines(frame, {"loss/discriminator": "Loss_D (hinge)",
                                  "loss/generator": "Loss_G = −mean D(G(z))",
                                  "loss/d_real": "D's hinge on real", "loss/d_fake":
                                  "D's hinge on generated"},
                          "Hinge losses (shaded: the hinge monitor's healthy bands)", "hinge loss",
                          smooth=True)
    for (low, high), colour, label in ((thresholds.d_loss_band, "rgba(31,119,180,0.12)", "D band"),
                                       (thresholds.g_loss_band, "rgba(255,127,14,0.10)", "G band")):
        figure.add_hrect(y0=low, y1=high, fillcolor=colour, line_width=0,
                         annotation_text=f"{label} {low:g}–{high:g}",
                         annotation_position="top left", annotation_font_size=10)
    figure.add_hline(y=2.0, line_dash="dot", line_color="gray",
                     annotation_text="Loss_D = 2: D scores everything 0", annotation_font_size=10)
    return figure


def scores_figure(frame: pd.DataFrame) -> go.Figure:
    """D's raw scores (a hinge D has no probabilities): the margins are +1 and −1."""
    figure = charts.lines(frame, {"d_score/real": "mean D(x, y)",
                                  "d_score/fake": "mean D(G(z), y)"},
                          "Discriminator scores (hinge margins at ±1)", "score", smooth=True)
    for level in (1, -1):
        figure.add_hline(y=level, line_dash="dash", line_color="gray")
    return figure


def accuracy_figure(frame: pd.DataFrame) -> go.Figure:
    figure = charts.lines(frame, {"d_accuracy/real": "on real (score > 0)",
                                  "d_accuracy/fake": "on generated (score < 0)",
                                  "d_accuracy/mean": "mean"},
                          "Discriminator accuracy (sign of its score)", "accuracy")
    figure.update_layout(yaxis_range=[0, 1.02], yaxis_tickformat=".0%")
    return figure


def classes_figure(frame: pd.DataFrame, collapse_below: float) -> go.Figure:
    """Diversity and classes covered, and how often the CNN sees the class G was asked for."""
    figure = charts.diversity_figure(frame, collapse_below)
    intended = charts.series(frame, "classes/intended_accuracy")
    if not intended.empty:
        figure.add_scatter(x=intended["step"], y=intended["value"] * 10, mode="lines+markers",
                           name="intended-class accuracy × 10", yaxis="y2",
                           line=dict(dash="dot"))
    figure.update_layout(title="Diversity, classes covered, intended-class accuracy (× 10)")
    return figure


# The class explorer ----------------------------------------------------------------------------

def picture(images: torch.Tensor, columns: int, scale: int = SCALE) -> np.ndarray:
    return grid(to_uint8(images), columns=columns, scale=scale)


def judged(images: torch.Tensor, label: int) -> str:
    """How many of ``images`` the shipped CNN labels ``label`` (a caption), or ''."""
    judge = gan_eval.shipped_judge()
    if judge is None or images.shape[1] != 1:
        return ""
    logits = judge.logits_and_features(images)[0]
    return f"; the shipped CNN sees this class in {int((logits.argmax(1) == label).sum())} of " \
           f"{len(images)}"


class ConditionalGANPanel(GANPanel):
    """A class-conditional GAN's page: choose the class; ``truncation`` adds the ψ slider."""

    truncation = False

    def monitor_panel(self, frame: pd.DataFrame, config: dict, job=None,
                      ended: bool = True) -> None:
        super().monitor_panel(frame, config, job, ended=ended)
        st.caption(self.spec.health.explanation)

    def training_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        """The hinge losses with their bands, D's scores and accuracy, diversity and the
        intended-class accuracy, gradient norms, then the model's own (``model_charts``)."""
        t = self.spec.health.thresholds
        left, right = st.columns(2)
        left.plotly_chart(hinge_loss_figure(frame, t), key=f"{key}.loss")
        right.plotly_chart(scores_figure(frame), key=f"{key}.scores")
        left, right = st.columns(2)
        left.plotly_chart(accuracy_figure(frame), key=f"{key}.dacc")
        right.plotly_chart(classes_figure(frame, t.collapse_diversity), key=f"{key}.div")
        left, right = st.columns(2)
        left.plotly_chart(charts.grad_norm_figure(frame), key=f"{key}.grad")
        with right:
            self.model_charts(frame, key, config)

    def model_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        """A model's own chart beside the gradient norms (SAGAN: γ over training)."""

    def psi(self) -> float | None:
        """The ψ the explorer draws with (None: no truncation)."""
        if not self.truncation:
            return None
        left, right = st.columns([1, 2])
        if not left.toggle("Truncation trick", True, key=self.key("truncate"),
                           help="draw z from a normal truncated at ψ: values above ψ in "
                                "magnitude are drawn again"):
            return None
        return right.slider("ψ (truncation threshold)", 0.05, 2.0, 0.5, 0.05, key=self.key("psi"),
                            help="lower: more typical, less varied images; 2 is nearly no "
                                 "truncation")

    def explorer(self, source) -> None:
        loaded = source_payload(source)
        if loaded is None:
            return
        payload, key = loaded
        self.payload = payload           # (its stored figures, for the model's own views)
        model = model_for(key, payload)
        if not model.class_count:        # an unconditional run: the seed explorer
            super().explorer(payload)
            return
        names = class_names(model)
        st.subheader("Choose the class")
        first, second = st.columns([2, 1])
        label = first.selectbox("Class", list(range(model.class_count)),
                                format_func=lambda index: names[index], key=self.key("class"))
        seed = second.number_input("Seed of the noise z", 0, 2**31 - 1, 0, key=self.key("seed"))
        psi = self.psi()
        with one_thread():
            row = model.draw(torch.full((ROW,), label), torch.Generator().manual_seed(int(seed)),
                             psi)
            seeds = list(range(int(seed), int(seed) + GRID_SEEDS))
            table = model.class_grid(seeds, psi)
        shown = f"ψ = {psi:g}" if psi else "no truncation"
        row_picture = picture(row, ROW, 4)
        st.image(row_picture)
        st.caption(f"{names[label]}: {ROW} samples, seed {seed}, {shown}" + judged(row, label))
        st.download_button("Download PNG", png_bytes(row_picture),
                           file_name=f"{self.name}-{label}-seed{seed}.png", mime="image/png",
                           key=self.key("row.png"))
        st.markdown(f"**Class × seed** — rows: the {model.class_count} classes (top to bottom: "
                    f"{', '.join(names)}); columns: seeds {seeds[0]} … {seeds[-1]} (the same z "
                    f"down a column), {shown}.")
        st.image(picture(table, GRID_SEEDS, 2))
        self.explorer_extras(model, key)


# The attention viewer ----------------------------------------------------------------------------

def _pixel_keys(panel) -> tuple[str, str]:
    return panel.key("attention", "x"), panel.key("attention", "y")


def _clicked(panel, chart_key: str) -> None:
    """A click on the image: move the x, y sliders to that pixel (runs before the sliders)."""
    event = st.session_state.get(chart_key)
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if points:
        x_key, y_key = _pixel_keys(panel)
        st.session_state[x_key] = int(round(points[0]["x"]))
        st.session_state[y_key] = int(round(points[0]["y"]))


def image_figure(image: np.ndarray, x: int, y: int) -> go.Figure:
    """The generated image (H, W) in [0, 255], clickable pixel by pixel, the query marked."""
    size = image.shape[0]
    figure = go.Figure(go.Heatmap(z=image, colorscale="gray", showscale=False, hoverinfo="skip",
                                  zmin=0, zmax=255))
    columns, rows = np.meshgrid(np.arange(size), np.arange(size))
    figure.add_scatter(x=columns.ravel(), y=rows.ravel(), mode="markers",
                       marker=dict(size=PIXEL, symbol="square", opacity=0.0, color="white"),
                       hovertemplate="pixel (%{x}, %{y})<extra></extra>", showlegend=False)
    figure.add_scatter(x=[x], y=[y], mode="markers", showlegend=False, hoverinfo="skip",
                       marker=dict(size=PIXEL, symbol="square-open", color="red",
                                   line=dict(width=3)))
    figure.update_layout(width=size * PIXEL + 20, height=size * PIXEL + 50,
                         margin=dict(l=10, r=10, t=40, b=10), title="Click a pixel",
                         xaxis=dict(visible=False, range=[-0.5, size - 0.5]),
                         yaxis=dict(visible=False, range=[size - 0.5, -0.5], scaleanchor="x"),
                         dragmode=False, clickmode="event+select")
    return figure


def heatmap_figure(image: np.ndarray, weights: np.ndarray, x: int, y: int, title: str
                   ) -> go.Figure:
    """Where one query pixel looks: the attention weights over the key cells (K, K), laid over
    the image (H, W) cell by cell, the query pixel marked."""
    size, cells = image.shape[0], weights.shape[0]
    cell = size / cells
    centres = (np.arange(cells) + 0.5) * cell - 0.5
    figure = go.Figure(go.Heatmap(z=image, colorscale="gray", showscale=False, hoverinfo="skip",
                                  zmin=0, zmax=255))
    figure.add_heatmap(z=weights, x=centres, y=centres, colorscale="Hot", reversescale=True,
                       opacity=0.65, zmin=0, colorbar=dict(title="weight", thickness=10),
                       hovertemplate="cell (%{x:.0f}, %{y:.0f}): %{z:.3f}<extra></extra>")
    figure.add_scatter(x=[x], y=[y], mode="markers", showlegend=False, hoverinfo="skip",
                       marker=dict(size=9, symbol="x", color="deepskyblue",
                                   line=dict(width=2)))
    figure.update_layout(width=290, height=250, margin=dict(l=10, r=10, t=40, b=10),
                         title=dict(text=title, font=dict(size=12)),
                         xaxis=dict(visible=False, range=[-0.5, size - 0.5]),
                         yaxis=dict(visible=False, range=[size - 0.5, -0.5], scaleanchor="x"))
    return figure


def attention_viewer(panel, model, key: str) -> None:
    """Pick a generated image and a query pixel; see where that pixel attends, per attention
    layer (G's and D's) and head."""
    st.subheader("Attention viewer")
    if not model.config.self_attention:
        st.info("This model was trained without self-attention (γ fixed at 0): there is nothing "
                "to look at. Train with *self-attention* on to see where pixels attend.")
        return
    names = class_names(model) if model.class_count else []
    first, second, third = st.columns(3)
    label = first.selectbox("Class of the image", list(range(model.class_count)),
                            format_func=lambda index: names[index],
                            key=panel.key("attention", "class")) if model.class_count else None
    seed = second.number_input("Seed of the image", 0, 2**31 - 1, 0,
                               key=panel.key("attention", "seed"))
    z = model.sample_z(1, torch.Generator().manual_seed(int(seed)))
    latent = model.latent_for(z, torch.tensor([label])) if label is not None else z
    size = model.image_shape[-1]
    x_key, y_key = _pixel_keys(panel)
    st.session_state.setdefault(x_key, size // 2)
    st.session_state.setdefault(y_key, size // 2)
    with third:
        x = st.slider("Query pixel x", 0, size - 1, key=x_key)
        y = st.slider("Query pixel y", 0, size - 1, key=y_key)
    with one_thread():
        image = to_uint8(model.generate(latent))[0, 0].numpy()
        layers = model.attention_maps(latent)
    chart_key = panel.key("attention", "image")
    left, right = st.columns([1.15, 2])
    with left:
        st.plotly_chart(image_figure(image, x, y), key=chart_key, width="content",
                        on_select=functools.partial(_clicked, panel, chart_key),
                        selection_mode="points", config={"displayModeBar": False})
    with right:
        st.caption(f"Query pixel ({x}, {y}). Each map is one row of an attention block's softmax: "
                   "how much that pixel's position (a cell of the block's 16×16 feature map) "
                   "draws on each key cell (keys are pooled to 8×8, so a cell covers 4×4 pixels); "
                   "the weights sum to 1. γ: how strongly the block's output is added.")
        figures = []
        for layer in layers:
            cell = size // layer["size"]
            query = (y // cell) * layer["size"] + (x // cell)
            for head, maps in enumerate(layer["maps"]):
                weights = maps[query].view(layer["key_size"], layer["key_size"]).numpy()
                heads = f", head {head + 1}" if len(layer["maps"]) > 1 else ""
                figures.append(heatmap_figure(
                    image, weights, x, y, f"{layer['network']} at {layer['size']}×"
                    f"{layer['size']}{heads} (γ = {layer['gamma']:+.3f})"))
        columns = st.columns(min(len(figures), 2))
        for index, figure in enumerate(figures):
            columns[index % len(columns)].plotly_chart(
                figure, key=panel.key("attention", f"map{index}"), width="content",
                config={"displayModeBar": False})
