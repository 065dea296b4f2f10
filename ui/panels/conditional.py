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
from core.i18n import _
from core.images import png_bytes
from core.models.gans.base import to_uint8
from ui import charts, pictures
from ui.adversarial_views import model_for, source_payload
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


def is_fashion(model) -> bool:
    """A 10-class grey model: its classes are Fashion-MNIST's."""
    return model.class_count == len(CLASS_NAMES) and model.image_shape[0] == 1


def class_names(model) -> list[str]:
    """Fashion-MNIST's names for a 10-class grey model, else "class k" (in the page's language)."""
    if is_fashion(model):
        return [_(name) for name in CLASS_NAMES]
    return [_("class {index}").format(index=index) for index in range(model.class_count)]


# Charts ----------------------------------------------------------------------------------------

def hinge_loss_figure(frame: pd.DataFrame, thresholds) -> go.Figure:
    """Loss_D and Loss_G with the hinge monitor's bands (not the tutorial's BCE bands)."""
    figure = charts.lines(frame, {"loss/discriminator": _("Loss_D (hinge)"),
                                  "loss/generator": _("Loss_G = −mean D(G(z))"),
                                  "loss/d_real": _("D's hinge on real"), "loss/d_fake":
                                  _("D's hinge on generated")},
                          _("Hinge losses"), _("hinge loss"), smooth=True,
                          subtitle=_("the hinge monitor's bands — {bands}").format(
                              bands=_(charts.BANDS)))
    charts.bands(figure, thresholds.d_loss_band, thresholds.g_loss_band)
    steps = charts.series(frame, "loss/discriminator")["step"].tolist() if not frame.empty else []
    charts.reference_line(figure, steps, 2.0, _("Loss_D = 2: D scores everything 0"), "gray",
                          "dot")
    return figure


def scores_figure(frame: pd.DataFrame) -> go.Figure:
    """D's raw scores (a hinge D has no probabilities): the margins are +1 and −1."""
    figure = charts.lines(frame, {"d_score/real": _("mean D(x, y)"),
                                  "d_score/fake": _("mean D(G(z), y)")},
                          _("Discriminator scores"), _("score"), smooth=True,
                          subtitle=_("dashed: the hinge margins at ±1"))
    for level in (1, -1):
        figure.add_hline(y=level, line_dash="dash", line_color="gray")
    return figure


def accuracy_figure(frame: pd.DataFrame) -> go.Figure:
    figure = charts.lines(frame, {"d_accuracy/real": _("on real (score > 0)"),
                                  "d_accuracy/fake": _("on generated (score < 0)"),
                                  "d_accuracy/mean": _("mean")},
                          _("Discriminator accuracy"), _("accuracy"),
                          subtitle=_("right when the sign of its score is"))
    figure.update_layout(yaxis_range=[0, 1.02], yaxis_tickformat=".0%")
    return figure


def classes_figure(frame: pd.DataFrame, collapse_below: float,
                   nearest_below: float | None = None) -> go.Figure:
    """Diversity and classes covered, and how often the CNN sees the class G was asked for."""
    figure = charts.diversity_figure(frame, collapse_below, nearest_below)
    intended = charts.series(frame, "classes/intended_accuracy")
    if not intended.empty:
        figure.add_scatter(x=intended["step"], y=intended["value"] * 10, mode="lines+markers",
                           name=_("intended-class accuracy × 10"), yaxis="y2",
                           line=dict(dash="dot"))
    return charts.titled(figure, _("Diversity and classes"), _(
        "classes covered and the intended-class accuracy × 10 on the right axis; dashed: where "
        "the monitor calls collapse"))


# The class explorer ----------------------------------------------------------------------------

def picture(images: torch.Tensor, columns: int) -> np.ndarray:
    """Images in [-1, 1] in a grid a learner can read (each at least 64 px)."""
    return pictures.readable_grid(to_uint8(images), columns=columns)


def judged(images: torch.Tensor, label: int) -> str:
    """How many of ``images`` the shipped CNN labels ``label`` (a caption), or ''."""
    judge = gan_eval.shipped_judge()
    if judge is None or images.shape[1] != 1:
        return ""
    logits = judge.logits_and_features(images)[0]
    return _("; the shipped CNN sees this class in {seen} of {count}").format(
        seen=int((logits.argmax(1) == label).sum()), count=len(images))


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
        charts.plot(hinge_loss_figure(frame, t), f"{key}.loss")
        charts.plot(scores_figure(frame), f"{key}.scores")
        charts.plot(accuracy_figure(frame), f"{key}.dacc")
        charts.plot(classes_figure(frame, t.collapse_diversity,
                                   getattr(t, "collapse_nearest", None)), f"{key}.div")
        charts.plot(charts.grad_norm_figure(frame), f"{key}.grad")
        st.caption(self.spec.health.chart_notes["grad_norm"])
        self.model_charts(frame, key, config)

    def model_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        """A model's own chart beside the gradient norms (SAGAN: γ over training)."""

    def psi(self) -> float | None:
        """The ψ the explorer draws with (None: no truncation)."""
        if not self.truncation:
            return None
        left, right = st.columns([1, 2])
        if not left.toggle(_("Truncation trick"), True, key=self.key("truncate"),
                           help=_("draw z from a normal truncated at the threshold ψ: entries "
                                  "larger than ψ in magnitude are drawn again")):
            return None
        return right.slider(_("ψ (truncation threshold: small = strong)"), 0.05, 2.0, 0.5, 0.05,
                            key=self.key("psi"),
                            help=_("BigGAN's ψ is a threshold on z: entries beyond ±ψ are drawn "
                                   "again. Lower: stronger truncation, more typical, less varied "
                                   "images; 2 is nearly none. (StyleGAN's ψ is a weight towards "
                                   "the average style, where 1 = no truncation.)"))

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
        st.subheader(_("Choose the class"))
        first, second = st.columns([2, 1])
        label = first.selectbox(_("Class"), list(range(model.class_count)),
                                format_func=lambda index: names[index], key=self.key("class"))
        seed = second.number_input(_("Seed of the noise z"), 0, 2**31 - 1, 0,
                                   key=self.key("seed"))
        psi = self.psi()
        with one_thread():
            row = model.draw(torch.full((ROW,), label), torch.Generator().manual_seed(int(seed)),
                             psi)
            seeds = list(range(int(seed), int(seed) + GRID_SEEDS))
            table = model.class_grid(seeds, psi)
        shown = f"ψ = {psi:g}" if psi else _("no truncation")   # a formula: not translated
        row_picture = picture(row, ROW)
        pictures.show(row_picture)
        st.caption(_("{name}: {count} samples, seed {seed}, {truncation}").format(
            name=names[label], count=ROW, seed=seed, truncation=shown) + judged(row, label))
        st.download_button(_("Download PNG"), png_bytes(row_picture),
                           file_name=f"{self.name}-{label}-seed{seed}.png", mime="image/png",
                           key=self.key("row.png"))
        st.markdown(_("**Class × seed** — rows: the {count} classes (top to bottom: "
                      "{names}); columns: seeds {first} … {last} (the same z "
                      "down a column), {truncation}.").format(
                          count=model.class_count, names=", ".join(names), first=seeds[0],
                          last=seeds[-1], truncation=shown))
        pictures.show(picture(table, GRID_SEEDS))
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
                       hovertemplate=_("pixel (%{x}, %{y})") + "<extra></extra>",
                       showlegend=False)
    figure.add_scatter(x=[x], y=[y], mode="markers", showlegend=False, hoverinfo="skip",
                       marker=dict(size=PIXEL, symbol="square-open", color="red",
                                   line=dict(width=3)))
    figure.update_layout(width=size * PIXEL + 20, height=size * PIXEL + 50,
                         margin=dict(l=10, r=10, t=40, b=10), title=_("Click a pixel"),
                         xaxis=dict(visible=False, range=[-0.5, size - 0.5]),
                         yaxis=dict(visible=False, range=[size - 0.5, -0.5], scaleanchor="x"),
                         dragmode=False, clickmode="event+select")
    return figure


def attention_ratio(weights: np.ndarray) -> np.ndarray:
    """Attention weights (K, K) as multiples of uniform attention (1 / K²): 1 = uniform."""
    return weights * weights.size


def attention_summary(weights: np.ndarray) -> str:
    """What a learner sees in one map, in words: how far from uniform it is, and how many cells
    it spreads over (the exponential of its entropy: K² when uniform, 1 on a single cell)."""
    cells = weights.size
    flat = np.clip(weights.ravel().astype(float), 1e-12, None)
    spread = float(np.exp(-(flat * np.log(flat)).sum()))
    low, high = float(weights.min()), float(weights.max())
    if spread > 0.9 * cells:
        return _("nearly uniform: every weight {low:.3f}–{high:.3f}, against 1/{cells} = "
                 "{uniform:.4f} for uniform attention — this pixel looks at the whole image "
                 "about evenly (spread over ≈ {spread:.0f} of {cells} cells)").format(
                     low=low, high=high, cells=cells, uniform=1 / cells, spread=spread)
    if spread < 1.5:
        return _("one cell: weight {high:.2f} ({times:.0f}× uniform) on a single key "
                 "cell — this pixel copies one place of the image (spread over ≈ {spread:.1f} "
                 "of {cells} cells)").format(high=high, times=high * cells, spread=spread,
                                             cells=cells)
    return _("focused: up to {high:.3f} ({high_times:.1f}× uniform), least {low:.4f} "
             "({low_times:.2f}×) — spread over ≈ {spread:.1f} of {cells} cells").format(
                 high=high, high_times=high * cells, low=low, low_times=low * cells,
                 spread=spread, cells=cells)


def heatmap_figure(image: np.ndarray, weights: np.ndarray, x: int, y: int, title: str
                   ) -> go.Figure:
    """Where one query pixel looks: the attention weights over the key cells (K, K), laid over
    the image (H, W) cell by cell, the query pixel marked. The colour is the weight against
    uniform attention (1/K²) on a log scale centred at uniform: white = as uniform attention
    would weigh that cell, red = more, blue = less. A map near uniform looks white, however its
    weights vary among themselves."""
    size, cells = image.shape[0], weights.shape[0]
    cell = size / cells
    centres = (np.arange(cells) + 0.5) * cell - 0.5
    ratio = attention_ratio(weights)
    logs = np.log2(np.clip(ratio, 1e-6, None))
    # One scale for every map, from 1/K² to K² times uniform: a map near uniform looks white
    # beside one that puts all its weight on a cell.
    reach = float(np.log2(weights.size))
    ticks = [t for t in range(-int(reach), int(reach) + 1) if t % 2 == 0]
    labels = [(_("uniform") if t == 0 else f"{2 ** t:g}×" if t > 0 else f"1/{2 ** -t:g}×")
              for t in ticks]
    figure = go.Figure(go.Heatmap(z=image, colorscale="gray", showscale=False, hoverinfo="skip",
                                  zmin=0, zmax=255))
    figure.add_heatmap(z=np.clip(logs, -reach, reach), x=centres, y=centres, colorscale="RdBu",
                       reversescale=True, zmid=0, zmin=-reach, zmax=reach, opacity=0.7,
                       customdata=np.stack([weights, ratio], axis=-1),
                       colorbar=dict(title=dict(text=_("weight ÷ uniform (1/{cells})").format(
                                                    cells=weights.size), side="top"),
                                     orientation="h", y=-0.04, yanchor="top", len=1,
                                     thickness=10, tickvals=ticks, ticktext=labels),
                       hovertemplate=_("cell (%{x:.0f}, %{y:.0f}): weight %{customdata[0]:.4f} "
                                       "= %{customdata[1]:.2f}× uniform") + "<extra></extra>")
    figure.add_scatter(x=[x], y=[y], mode="markers", showlegend=False, hoverinfo="skip",
                       marker=dict(size=10, symbol="x", color="limegreen",
                                   line=dict(width=2, color="black")))
    figure.update_layout(height=390, margin=dict(l=10, r=10, t=40, b=80), title=title,
                         xaxis=dict(visible=False, range=[-0.5, size - 0.5], constrain="domain"),
                         yaxis=dict(visible=False, range=[size - 0.5, -0.5], scaleanchor="x",
                                    constrain="domain"))
    return figure


def attention_viewer(panel, model, key: str) -> None:
    """Pick a generated image and a query pixel; see where that pixel attends, in each attention
    block (G's and D's), for the chosen head when a block has several."""
    st.subheader(_("Attention viewer"))
    if not model.config.self_attention:
        st.info(_("This model was trained without self-attention (γ fixed at 0): there is "
                  "nothing to look at. Train with *self-attention* on to see where pixels "
                  "attend."))
        return
    names = class_names(model) if model.class_count else []
    first, second, third = st.columns(3)
    label = first.selectbox(_("Class of the image"), list(range(model.class_count)),
                            format_func=lambda index: names[index],
                            key=panel.key("attention", "class")) if model.class_count else None
    seed = second.number_input(_("Seed of the image"), 0, 2**31 - 1, 0,
                               key=panel.key("attention", "seed"))
    z = model.sample_z(1, torch.Generator().manual_seed(int(seed)))
    latent = model.latent_for(z, torch.tensor([label])) if label is not None else z
    size = model.image_shape[-1]
    x_key, y_key = _pixel_keys(panel)
    st.session_state.setdefault(x_key, size // 2)
    st.session_state.setdefault(y_key, size // 2)
    with third:
        x = st.slider(_("Query pixel x"), 0, size - 1, key=x_key)
        y = st.slider(_("Query pixel y"), 0, size - 1, key=y_key)
    with one_thread():
        image = to_uint8(model.generate(latent))[0, 0].numpy()
        layers = model.attention_maps(latent)
    heads = max(len(layer["maps"]) for layer in layers)
    head = 0
    if heads > 1:
        head = st.selectbox(_("Head"), list(range(heads)),
                            format_func=lambda h: _("head {number}").format(number=h + 1),
                            key=panel.key("attention", "head"),
                            help=_("each head of a block has its own queries and keys: it can "
                                   "look elsewhere"))
    chart_key = panel.key("attention", "image")
    left, right = st.columns([1, 1.2])
    with left:
        charts.plot(image_figure(image, x, y), chart_key, width="content",
                    on_select=functools.partial(_clicked, panel, chart_key),
                    selection_mode="points", config={"displayModeBar": False})
    maps = []
    for layer in layers:
        cell = size // layer["size"]
        query = (y // cell) * layer["size"] + (x // cell)
        shown = min(head, len(layer["maps"]) - 1)
        weights = layer["maps"][shown][query].view(layer["key_size"], layer["key_size"]).numpy()
        if len(layer["maps"]) > 1:
            name = _("{network} at {size}×{size}, head {head}").format(
                network=layer["network"], size=layer["size"], head=shown + 1)
        else:
            name = _("{network} at {size}×{size}").format(network=layer["network"],
                                                         size=layer["size"])
        title = _("{name} (γ = {gamma:+.3f})").format(name=name, gamma=layer["gamma"])
        maps.append((name, title, weights))
    with right:
        st.caption(_("Query pixel ({x}, {y}). Each map is one row of an attention block's "
                     "softmax: how much that pixel's position (a cell of the block's 16×16 "
                     "feature map) draws on each key cell (keys are pooled to 8×8, so a cell "
                     "covers 4×4 pixels); the weights sum to 1. The colour is each weight against "
                     "uniform attention (1/64 a cell): white = uniform, red = more, blue = less. "
                     "γ: how strongly the block's output is added.").format(x=x, y=y))
        st.markdown("\n".join("- " + _("**{name}** — {summary}.").format(
                                   name=name, summary=attention_summary(weights))
                               for name, _title, weights in maps))
    columns = st.columns(2)
    for index, (_name, title, weights) in enumerate(maps):
        charts.plot(heatmap_figure(image, weights, x, y, title),
                    panel.key("attention", f"map{index}"), container=columns[index % 2],
                    config={"displayModeBar": False})
