"""The image-to-image pages: live monitor and charts, the grid of fixed test images over time, and
the helpers the pix2pix and CycleGAN panels draw with (the drawing canvas, image uploads, pictures
at a readable size, D's patch map).

``TranslationPanel`` is the family's page; like the GAN page it is an ``AdversarialPanel`` (the
monitor, the remedy buttons, the grid over time: ``ui/adversarial_views.py``), with its own data
note, charts, captions and explorer.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch

from core.data.fashion_mnist import DataUnavailable
from core.i18n import N_, _, ngettext
from core.images import grid, picture_from_drawing, picture_from_upload
from core.models.gans.base import to_uint8
from ui import charts, pictures, state
from ui.adversarial_views import SCALE, AdversarialPanel, model_for, show_grid, source_payload


CANVAS_PX = 280               # the canvas is drawn 10x the model's 28 px
BIG = 6                       # single images drawn 6x (168 px)


def picture(images: torch.Tensor, columns: int | None = None, scale: int = BIG,
            max_width: int = pictures.VIEW_WIDTH) -> np.ndarray:
    """Images in [-1, 1] as one uint8 picture, enlarged ``scale`` times (nearest neighbour) or
    less when that is wider than ``max_width``, never below 64 px an image."""
    images = to_uint8(images.detach().cpu())
    columns = columns or len(images)
    side = images.shape[-1]
    while scale > 1 and columns * (side * scale + 2 * scale) > max_width:
        scale -= 1                                    # the largest whole scale that fits
    if side * scale < pictures.READABLE:
        return pictures.readable_grid(images, columns=columns, max_width=max_width)
    return grid(images, columns=columns, scale=scale)


def from_unit(picture_01: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1]."""
    return picture_01 * 2 - 1


class TranslationPanel(AdversarialPanel):
    """A translation model's page. Model panels override ``explorer`` (and ``after``)."""

    preview_caption = N_("fixed test images")
    samples_label = N_("Test images at step")
    no_samples_yet = N_("The first grid of test images appears after the first steps.")

    # Data: Fashion-MNIST only (the pairs and domains are made from it) ---------------------------
    def data_controls(self) -> None:
        st.caption(_("Data: made from Fashion-MNIST on this machine (train and test split "
                     "kept)."))

    # Charts --------------------------------------------------------------------------------------
    def loss_figure(self, frame: pd.DataFrame) -> go.Figure:
        """D's loss and G's adversarial term with the bands the monitor uses for this loss."""
        health = self.spec.health
        t = health.thresholds
        kind = "BCE" if health.loss == "bce" else _("least squares")
        figure = charts.lines(frame, {"loss/discriminator": "D", "loss/generator":
                                      _("G (adversarial term)")}, _("GAN losses"), kind)
        charts.bands(figure, t.d_loss_band, t.g_loss_band)
        return charts.titled(figure, _("GAN losses"), f"{kind}; {_(charts.BANDS)}")

    def scores_figure(self, frame: pd.DataFrame) -> go.Figure:
        bce = self.spec.health.loss == "bce"
        figure = charts.lines(frame, {"d/real": _("D on real"), "d/fake_before_g":
                                      _("D on generated (before G's step)"),
                                      "d/fake_after_g": _("D on generated (after)")},
                              _("D's mean patch score"), _("probability 'real'") if bce else
                              _("score (real → 1, generated → 0)"))
        if bce:
            figure.update_layout(yaxis_range=[0, 1])
        return figure

    def model_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        """The model's own measures (pix2pix: L1 and the test checks; CycleGAN: cycle and
        identity losses, class of the translations)."""

    def training_charts(self, frame: pd.DataFrame, key: str, config: dict) -> None:
        """One chart a row: the view column is too narrow at 1400 px for two with their titles."""
        charts.plot(self.loss_figure(frame), f"{key}.loss")
        charts.plot(self.scores_figure(frame), f"{key}.dout")
        self.model_charts(frame, key, config)
        charts.plot(charts.d_accuracy_figure(frame, self.spec.health.thresholds
                                             .d_accuracy_healthy), f"{key}.dacc")
        charts.plot(charts.grad_norm_figure(frame), f"{key}.grad")
        st.caption(self.spec.health.chart_notes["grad_norm"])
        st.caption(_("The monitor's bands — {bands}.").format(
            bands=self.spec.health.bands_text()))

    # The finished model --------------------------------------------------------------------------
    def loaded(self, source):
        """(model on the CPU, cache key, checkpoint) of a source, its data prepared; or None
        after saying why not."""
        found = source_payload(source)
        if found is None:
            return None
        payload, key = found
        model = model_for(key, payload)
        try:
            model.ensure_prepared(state.images())
        except DataUnavailable as error:
            st.warning(_("The test images are not available here: {error}").format(error=error))
            return None
        return model, key, payload

    def explorer(self, source) -> None:
        """The family's default: the fixed test images through the finished model."""
        found = self.loaded(source)
        if found is None:
            return
        model = found[0]
        st.subheader(_("Test images through the finished model"))
        show_grid(model.preview(), _(self.preview_caption), self.key("preview"))


# Input from the learner ------------------------------------------------------------------------

def drawing_input(key: str, stroke_width: int, label: str, fill_hint: str = "") -> tuple:
    """A canvas to draw on (white on black); returns (picture (1, 1, 28, 28) in [0, 1] or None,
    a message or None). Without the canvas component, says how to get it."""
    st_canvas = pictures.canvas_component()
    if st_canvas is None:
        return None, _("The drawing canvas needs the `streamlit-drawable-canvas` package "
                       "(`pip install -r requirements.txt`); upload an image below instead.")
    st.caption(label + (f" {fill_hint}" if fill_hint else ""))
    result = st_canvas(stroke_width=stroke_width, stroke_color="#ffffff",
                       background_color="#000000", width=CANVAS_PX, height=CANVAS_PX,
                       drawing_mode="freedraw", return_image_data=True, key=key)
    image = result.image_data
    if image is None:
        return None, None                    # nothing sent yet (first render)
    try:
        return picture_from_drawing(image), None
    except ValueError as error:
        return None, _("{reason}.").format(reason=str(error).capitalize())


def upload_input(key: str, label: str) -> tuple:
    """An image upload; returns (picture (1, 1, 28, 28) in [0, 1] or None, a note or None,
    an error or None)."""
    upload = st.file_uploader(label, type=None, key=key, max_upload_size=state.upload_cap_mb())
    if upload is None:
        return None, None, None
    too_big = state.upload_too_big(upload.size)
    if too_big:
        return None, None, _("{name} refused: {reason}.").format(name=upload.name,
                                                                 reason=too_big)
    try:
        found, note = picture_from_upload(upload.getvalue(), upload.name)
    except ValueError as error:
        return None, None, _("{reason}.").format(reason=str(error)[0].upper() + str(error)[1:])
    return found, _("{name}: {note}.").format(name=upload.name, note=note), None


def patch_map_figure(scores: torch.Tensor, patch: int, title: str, probability: bool
                     ) -> go.Figure:
    """D's per-patch verdict as a heatmap: rows and columns of patches, blue = real.
    ``scores``: one map (rows, columns) of patches."""
    values = scores.detach().cpu().numpy()
    if values.ndim != 2:
        raise ValueError(f"a patch map is one (rows, columns) map, not {values.shape}")
    figure = go.Figure(go.Heatmap(z=values, colorscale="RdBu", zmin=0, zmax=1,
                                  colorbar=dict(title=dict(text=_("real") if probability else
                                                           _("score"), side="top"),
                                                tickvals=[0, 0.25, 0.5, 0.75, 1],
                                                ticktext=["0", "0.25", "0.5", "0.75", "1"],
                                                thickness=12, xpad=4),
                                  hovertemplate=_("patch row %{y}, column %{x}: %{z:.2f}")
                                  + "<extra></extra>"))
    figure.update_layout(title=title, yaxis_autorange="reversed", height=300,
                         margin=dict(l=10, r=40, t=charts.TOP, b=10),
                         xaxis=dict(title=ngettext("{count} patch of {patch}×{patch} px",
                                                   "{count} patches of {patch}×{patch} px",
                                                   values.shape[1]).format(
                                                       count=values.shape[1], patch=patch),
                                    showticklabels=False),
                         yaxis=dict(showticklabels=False, scaleanchor="x"))
    return figure


def show_picture(images: torch.Tensor, caption: str, key: str, scale: int = BIG,
                 columns: int | None = None, download: bool = False,
                 max_width: int = pictures.VIEW_WIDTH) -> None:
    """Images in [-1, 1] drawn at their own width, at least 64 px each (``picture``)."""
    pictures.show(picture(images, columns=columns, scale=scale, max_width=max_width), caption,
                  download=key if download else None)


def class_caption(judge, images: torch.Tensor, names) -> list[str]:
    """"<class> (<probability>)" the shipped CNN gives each image, or "" without it."""
    if judge is None:
        return [""] * len(images)
    logits, _features = judge.logits_and_features(images)
    probabilities = logits.softmax(1)
    return [f"{_(names[int(i)])} ({float(p[int(i)]):.0%})"
            for i, p in zip(probabilities.argmax(1), probabilities)]


__all__ = ["TranslationPanel", "drawing_input", "upload_input", "patch_map_figure",
           "show_picture", "class_caption", "picture", "from_unit", "SCALE"]
