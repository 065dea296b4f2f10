"""The GAN pages' *Inside* panel: D's scores over training and now, what D's gradient asks of a
generated image, and the nearest training images of a generated one. The computing is
``core/inside/``; this module only lays it out."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from core import figures, gan_eval, gan_task, inside
from core.i18n import N_, _
from core.models.gans.base import to_gan_range
from ui import charts, pictures
from ui.inside_views.common import (LAYOUT, LEGEND_BELOW, dataset, keep, kept, picture, resolve,
                                    wait_for)
from ui.shell import checkpoint_metrics

GAN_VIEWS = (N_("D's scores"), N_("What D would change"), N_("Nearest training images"))
GENERATED = 8              # generated images to pick from on the GAN views
NEIGHBOURS = 8


def gan_inside(panel, source, model_for) -> None:
    """The GAN pages' Inside panel (below the explorer); ``model_for(key, payload)`` is the
    explorer's model cache."""
    loaded = resolve(source)
    if loaded is None:
        return
    payload, key = loaded
    model = model_for(key, payload)
    st.subheader(_("Inside: what D sees"))
    view = st.radio(_("Look at"), GAN_VIEWS, horizontal=True, format_func=_,
                    key=panel.key("inside", "view"),
                    help=_("the discriminator's scores, its gradient, and whether G copies"))
    data = dataset()
    if data is not None and data.image_shape[0] != model.image_shape[0]:
        data = None           # a colour model: Fashion-MNIST's grey images are no reference
    if view == GAN_VIEWS[0]:
        scores_view(panel, model, key, payload, data)
        return
    latent, images = generated(panel, model)
    if view == GAN_VIEWS[1]:
        push_view(model, latent)
    else:
        nearest_view(model, images, data)


@st.cache_resource(show_spinner=False, max_entries=8)
def _recorded(key: str, _payload: dict) -> list:
    return inside.recorded_histograms(checkpoint_metrics(_payload))


@st.cache_resource(show_spinner=False, max_entries=8)
def _scores_now(key: str, _model, _payload: dict, _data) -> dict | None:
    """Stored with a shipped checkpoint's weights (``evaluate --store``), else measured here."""
    found = figures.stored(_payload, "d_scores")
    return found if found is not None else inside.scores_figure(_model, None, _data)


def histogram_figure(edges: np.ndarray, real: np.ndarray, fake: np.ndarray,
                     boundary: float | None, title: str, autoencoder: bool = False) -> go.Figure:
    """D's scores of real and generated images as two overlaid histograms (shares of each). An
    autoencoder D (BEGAN) scores minus its reconstruction error: higher means rebuilt better,
    not "more real", and G is trained to be rebuilt well, so its images usually score higher
    than real ones; the chart says so in its subtitle and, when it happens, on the chart."""
    centres, widths = (edges[1:] + edges[:-1]) / 2, np.diff(edges)
    figure = go.Figure()
    for shares, name, colour in ((real, _("real images"), "#1f77b4"),
                                 (fake, _("generated images"), "#ff7f0e")):
        figure.add_bar(x=centres, y=shares, width=widths, name=name, marker_color=colour,
                       opacity=0.6)
    if boundary is not None:
        figure.add_vline(x=boundary, line_dash="dash", line_color="gray",
                         annotation_text=_("D says \"real\" →"), annotation_font_size=10)
    axis = _("D's score (higher = more real)")
    subtitle = ""
    if autoencoder:
        axis = _("D's score = − reconstruction error (higher = rebuilt better)")
        mean = lambda shares: float((np.asarray(shares) * centres).sum()
                                    / max(float(np.sum(shares)), 1e-12))
        higher = mean(fake) > mean(real)
        subtitle = (_("generated images score higher: D rebuilds them better than real ones")
                    if higher else _("higher = rebuilt better by D, not \"more real\""))
        if higher:
            figure.add_annotation(x=0.5, y=0.98, xref="paper", yref="paper", xanchor="center",
                                  yanchor="top", showarrow=False, align="center",
                                  text=_("generated → higher:<br>not \"more real\""),
                                  font=dict(size=12, color="#ff7f0e"),
                                  bgcolor="rgba(255,255,255,0.8)")
    figure.update_layout(barmode="overlay", xaxis_title=axis, yaxis_title=_("share of images"),
                         height=380, **{**LAYOUT, "legend": LEGEND_BELOW})
    return charts.titled(figure, title, subtitle)


def trend_figure(histograms: list, chosen: int) -> go.Figure:
    """The median and the 10–90% band of D's scores on each side, over training."""
    steps = [h.step for h in histograms]
    figure = go.Figure()
    for side, band, median, colour, fill in (
            ("real", _("real: 10–90%"), _("real: median"), "#1f77b4", "rgba(31,119,180,0.15)"),
            ("fake", _("generated: 10–90%"), _("generated: median"), "#ff7f0e",
             "rgba(255,127,14,0.15)")):
        low = [h.quantile(side, 0.1) for h in histograms]
        high = [h.quantile(side, 0.9) for h in histograms]
        figure.add_scatter(x=steps + steps[::-1], y=high + low[::-1], fill="toself",
                           fillcolor=fill, mode="lines", line=dict(width=0),
                           name=band, hoverinfo="skip")
        figure.add_scatter(x=steps, y=[h.quantile(side, 0.5) for h in histograms],
                           mode="lines", name=median, line=dict(color=colour))
    figure.add_vline(x=chosen, line_color="gray", line_width=1)
    figure.update_layout(title=_("D's scores over training"), xaxis_title=_("step"),
                         yaxis_title=_("D's score"), height=360,
                         **{**LAYOUT, "legend": LEGEND_BELOW})
    return figure


def side_shares(real: np.ndarray, fake: np.ndarray, boundary: float) -> tuple[float, float]:
    return float((real > boundary).mean()), float((fake <= boundary).mean())


def scores_view(panel, model, key: str, payload: dict, data) -> None:
    histograms = _recorded(key, payload)
    # One above the other (training, then the finished model): beside each other at 1400 px
    # each chart is ≈ 280 px, too narrow for its axis title.
    left, right = st.container(), st.container()
    boundary = None
    autoencoder = inside.decision_boundary(model) is None
    scores = None
    if data is not None or "d_scores" in (payload.get("figures") or {}):
        with st.spinner(_("D scores real and generated images ...")):
            scores = _scores_now(key, model, payload, data)
    if scores is not None:
        real, fake = np.asarray(scores["real"]), np.asarray(scores["fake"])
        boundary = scores["boundary"]
        edges = np.linspace(*np.percentile(np.concatenate([real, fake]), [0.5, 99.5]), 31)
        if not edges[-1] > edges[0]:
            edges = np.linspace(edges[0] - 0.5, edges[0] + 0.5, 31)
        share = lambda values: np.histogram(np.clip(values, edges[0], edges[-1]), edges)[0] \
            / len(values)
        charts.plot(histogram_figure(edges, share(real), share(fake), boundary,
                                     _("The finished model"), autoencoder),
                    panel.key("inside", "now"), container=right)
        if boundary is not None:
            real_right, fake_right = side_shares(real, fake, boundary)
            right.caption(_("D calls {real_share:.0%} of {real_count} training images real and "
                            "{fake_share:.0%} of {fake_count} generated images generated (the "
                            "tutorial's healthy D: about 80% right). The finished model's G "
                            "draws; D reads them as its training step does (batch "
                            "statistics).").format(real_share=real_right, real_count=len(real),
                                                   fake_share=fake_right, fake_count=len(fake)))
        else:
            right.caption(_("This D is an autoencoder: its score is minus how badly it "
                            "reconstructs an image, so there is no real/generated boundary."))
    else:
        right.caption(_("Fashion-MNIST's images are not available here (or the model draws "
                        "colour images), so the finished model's D is not scored on real ones."))
    with left:
        if not histograms:
            st.caption(_("This run was trained before D's score histograms were recorded during "
                         "training: train it again to scrub through them."))
            return
        steps = [h.step for h in histograms]
        step_key = panel.key("inside", "step")
        remembered = kept(step_key, steps[-1])
        chosen = st.select_slider(_("D's scores at step"), steps, key=step_key,
                                  value=remembered if remembered in steps else steps[-1]) \
            if len(steps) > 1 else steps[0]
        keep(step_key, chosen)
        histogram = histograms[steps.index(chosen)]
        charts.plot(histogram_figure(histogram.edges, histogram.real, histogram.fake,
                                     boundary, _("During training, step {step:,}").format(
                                         step=chosen), autoencoder),
                    panel.key("inside", "then"))
        if len(histograms) > 1:
            charts.plot(trend_figure(histograms, chosen), panel.key("inside", "trend"))
        st.caption(_("{count} real and {count} generated images every 2nd metric window of the "
                     "first {early}, then every {every}th, scored by D as its step saw them then "
                     "(G itself, not its weight average). Where the two piles overlap, D cannot "
                     "tell them apart.").format(count=gan_task.HISTOGRAM_IMAGES,
                                                early=gan_task.HISTOGRAM_EARLY_WINDOWS,
                                                every=gan_task.HISTOGRAM_EVERY_WINDOWS))


def generated(panel, model) -> tuple[torch.Tensor, torch.Tensor]:
    """A seed and an image picked among ``GENERATED`` drawn from it: (latent (1, L), images)."""
    seed_key, pick_key = panel.key("inside", "seed"), panel.key("inside", "pick")
    left, right = st.columns([1, 2])
    seed = int(left.number_input(_("Seed"), 0, 2**31 - 1, kept(seed_key, 0), key=seed_key))
    keep(seed_key, seed)
    pick = int(right.select_slider(_("Image"), list(range(1, GENERATED + 1)),
                                   value=kept(pick_key, 1), key=pick_key))
    keep(pick_key, pick)
    latents = model.noise(GENERATED, torch.Generator().manual_seed(seed))
    images = model.generate(latents).detach().cpu()
    strip = [inside.to_rgb(image.numpy()) for image in images]
    pictures.show(pictures.readable_grid(strip, columns=GENERATED),
                  _("seed {seed}: images 1–{count}; image {pick} is looked at below").format(
                      seed=seed, count=GENERATED, pick=pick))
    return latents[pick - 1:pick], images[pick - 1:pick]


def push_view(model, latent: torch.Tensor) -> None:
    push = inside.discriminator_push(model, latent)
    gradient = push.gradient.mean(0)
    columns = st.columns(3)
    scale = max(3, 168 // push.image.shape[-1])      # a whole scale: drawn at its own width
    pictures.show(picture(inside.to_rgb(push.image), scale), container=columns[0],
                  caption=_("the generated image · D's score {score:.2f}").format(
                      score=push.score + 0.0))
    pictures.show(picture(inside.signed_colours(gradient), scale), container=columns[1],
                  caption=_("d score / d pixel: red = brighter would look more real, blue = "
                            "darker"))
    pictures.show(picture(inside.to_rgb(push.nudged), scale), container=columns[2],
                  caption=_("10 small steps that way · D's score {score:.2f}").format(
                      score=push.nudged_score + 0.0))
    st.caption(_("The gradient of D's score with respect to the image is what G's loss passes "
                 "back to G: G is pushed to change its images where this map is strong. Climbing "
                 "it a little (right) shows what D would like to see more of."))


@st.cache_resource(show_spinner=False, max_entries=2)
def _bank(name: str, _values: dict) -> tuple[torch.Tensor, np.ndarray]:
    return inside.bank_tensor(_values), np.sort(_values["reference"])


def nearest_view(model, images: torch.Tensor, data) -> None:
    judge = gan_eval.shipped_judge()
    if judge is None:
        st.info(_("The nearest images are found in the shipped CNN's features: "
                  "checkpoints/cnn.pt is missing."))
        return
    if data is None:
        st.info(_("Fashion-MNIST's training images are not available here (or the model draws "
                  "colour images), so there are no training images to compare with."))
        return
    name = inside.bank_name(gan_eval.CLASSIFIER, data)
    values = wait_for(*inside.computations.submit(
        name, lambda progress: inside.training_bank(judge, data, progress)),
        _("The training images' features"))
    if values is None:
        return
    bank, reference = _bank(name, values)
    query = inside.unit_features(judge, images)
    indices, distances = inside.nearest(bank, query, NEIGHBOURS)
    closer = float(np.searchsorted(reference, distances[0, 0]) / len(reference))
    # The training images as the model sees them (its size, [-1, 1]), so every cell has the
    # generated image's size and aspect.
    side = images.shape[-1]
    found = to_gan_range(data.train_images[torch.as_tensor(indices[0])].float() / 255, side)
    left, right = st.columns([1, 2.4])
    pictures.show(pictures.readable_grid([inside.to_rgb(images[0].numpy())], columns=1,
                                         min_cell=96), _("generated"), container=left)
    pictures.show(pictures.readable_grid([inside.to_rgb(image.numpy()) for image in found],
                                         columns=NEIGHBOURS // 2, max_width=400),
                  _("nearest first (left to right, then the second row): {images}").format(
                      images=", ".join(f"#{index:,} ({distance:.2f})"
                                       for index, distance in zip(indices[0], distances[0]))),
                  container=right)
    verdict = (_("closer than almost any real test image is to its nearest training image: it "
                 "may be a copy") if closer < 0.05 else
               _("about as far as real test images are from theirs: new, not copied")
               if closer < 0.95 else
               _("farther than almost any real test image: unlike the data"))
    st.caption(_("Its {count} nearest of the {total:,} training images in the shipped CNN's "
                 "features (distance between unit feature vectors). The nearest is {distance:.2f} "
                 "away; {share:.0%} of {reference} real test images are closer to their own "
                 "nearest training image — {verdict}.").format(
                     count=NEIGHBOURS, total=len(data.train_images), distance=distances[0, 0],
                     share=closer, reference=len(reference), verdict=verdict))
