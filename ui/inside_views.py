"""The *Inside* panels: on the classifier pages the first layer's weights as pictures, the forward
pass layer by layer, what decided a prediction (also for the misclassified test images) and where
the classes live (t-SNE maps of the features and of the raw pixels); on the GAN pages D's scores
over training and now, what D's gradient asks of a generated image, and the nearest training
images of a generated one. The computing is ``core/inside.py``; this module only lays it out.

``ClassifierPanel.inside`` and ``GANPanel.inside`` call ``classifier_inside`` and ``gan_inside``.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch

from core import checkpoints, gan_eval, gan_task, inside
from core.data.fashion_mnist import DataUnavailable
from core.registry import load_model
from ui import state
from ui.shell import checkpoint_metrics

try:   # a maintained drawing canvas (requirements.txt); without it, test images and uploads
    from streamlit_drawable_canvas import st_canvas
except ImportError:            # pragma: no cover - installed by make run / make test
    st_canvas = None

CLASSIFIER_VIEWS = ("Weights", "Layer by layer", "Why this prediction", "Where the classes live")
GAN_VIEWS = ("D's scores", "What D would change", "Nearest training images")
METHODS = {"Grad-CAM": "grad-cam", "SmoothGrad": "smoothgrad", "Gradient": "gradient"}
MISTAKES = 8               # misclassified test images explained
GENERATED = 8              # generated images to pick from on the GAN views
NEIGHBOURS = 8
SCORE_IMAGES = 512         # real and generated images in the finished model's D histogram
LAYOUT = dict(margin=dict(l=10, r=10, t=60, b=10), template="plotly_white",
              legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0))
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.3, xanchor="left", x=0)


# Sources and caches ------------------------------------------------------------------------------

def resolve(source) -> tuple[dict, str] | None:
    """(checkpoint, cache key) of a payload or a checkpoint file, quietly (the page has already
    said why a file cannot be read). The keys are the GAN explorer's, so its model is reused."""
    try:
        return state.payload_and_key(source)
    except (checkpoints.CheckpointError, OSError):
        return None


@st.cache_resource(show_spinner=False, max_entries=8)
def classifier_for(key: str, _payload: dict):
    """A classifier on the CPU and the fingerprint of its weights, once per checkpoint."""
    model = load_model(_payload, torch.device("cpu"))
    return model, inside.model_fingerprint(model)


def data_print(data) -> str:
    """The fingerprint of a dataset's contents, computed once per dataset object."""
    return state.content_key(data, inside.data_fingerprint)


@st.cache_resource(show_spinner=False, max_entries=4)
def hover_images(print_: str, count: int, _data) -> list[str]:
    """The first ``count`` test images as PNG data URLs (the class map's hover pictures)."""
    return inside.data_urls(_data.test_images[:count])


def dataset():
    try:
        return state.images()
    except DataUnavailable:
        return None


def kept(key: str, default):
    """A widget's last value, kept while the widget is not drawn (another view is open:
    Streamlit forgets the state of widgets a run does not draw)."""
    return st.session_state.get(f"{key}.kept", default)


def keep(key: str, value) -> None:
    st.session_state[f"{key}.kept"] = value


def wait_for(future, progress: inside.Progress, label: str):
    """A background result, or None while it is computed (the first time only): then a progress
    bar in a fragment that polls it and redraws the page when it is ready. The script thread is
    never held for more than a moment, so the rest of the page and other widgets stay live."""
    deadline = time.perf_counter() + 0.3      # quick results: drawn in this run, no flicker
    while not future.done() and time.perf_counter() < deadline:
        time.sleep(0.02)
    if not future.done():
        @st.fragment(run_every=0.5)
        def poll():
            if future.done():
                st.rerun(scope="app")
            seconds = time.perf_counter() - progress.started
            st.progress(min(max(progress.fraction, 0.0), 0.99),
                        text=f"{label} — the first time only: {progress.text} ({seconds:.0f} s)")
        poll()
        return None
    error = future.exception()
    if error is not None:
        st.error(f"{label} failed: {type(error).__name__}: {error}")
        return None
    return future.result()


def picture(values: np.ndarray, scale: int) -> np.ndarray:
    """An RGB picture enlarged (nearest neighbour)."""
    return inside.tile([values], columns=1, scale=scale, padding=0)


def grey_rgb(image: torch.Tensor) -> np.ndarray:
    """A uint8 (C, H, W) image as a grey RGB picture (H, W, 3)."""
    grey = image.float().mean(0).round().to(torch.uint8).numpy()
    return np.repeat(grey[..., None], 3, axis=2)


# Classifiers -------------------------------------------------------------------------------------

def classifier_inside(panel, source) -> None:
    """The classifier pages' Inside panel (below the results)."""
    loaded = resolve(source)
    if loaded is None:
        return
    payload, key = loaded
    model, model_print = classifier_for(key, payload)
    data = dataset()
    st.subheader("Inside the model")
    view = st.radio("Look at", CLASSIFIER_VIEWS, horizontal=True, key=panel.key("inside", "view"),
                    help="what the trained network does with an image, layer by layer")
    names = list(data.class_names) if data is not None else \
        [str(index) for index in range(model.num_classes)]
    if view == CLASSIFIER_VIEWS[0]:
        weights_view(model, names)
        return
    if data is None:
        st.info("The test images are not available on this machine, so this view is hidden.")
        return
    if view == CLASSIFIER_VIEWS[3]:
        class_map_view(panel, model, model_print, data, names)
        return
    chosen = choose_image(panel, data, names, model.image_shape)
    if chosen is None:
        return
    image, label, description = chosen
    if view == CLASSIFIER_VIEWS[1]:
        layers_view(panel, model, image, names, description)
    else:
        why_view(panel, model, image, label, names, description)
        mistakes_view(panel, model, key, payload, data, names)


def weights_view(model, names: list[str]) -> None:
    found = inside.first_layer_weights(model)
    if found is None:
        st.caption("The first layer does not read the pixels directly, so its weights are not "
                   "pictures.")
        return
    limit = float(np.percentile(np.abs(found.pictures), 99.5)) or 1.0
    pictures = [inside.signed_colours(weights, limit) for weights in found.pictures]
    shown = len(pictures)
    if found.kind == "templates" and found.count == len(names):
        st.caption(f"Layer `{found.layer}` {found.shape}: one weight per pixel for each class — "
                   "its template. Red pixels raise the class's score when they are bright, blue "
                   "ones lower it: the score is the image laid over the template, summed.")
        st.image([picture(p, 4) for p in pictures], caption=names, width=112)
    elif found.kind == "templates":
        st.caption(f"Layer `{found.layer}` {found.shape}: each hidden unit's weights over the "
                   f"pixels, the first {shown} of {found.count} units. Red: a bright pixel there "
                   "excites the unit; blue: inhibits it.")
        st.image(inside.tile(pictures, columns=16, scale=2))
    else:
        size = found.pictures.shape[-1]
        st.caption(f"Layer `{found.layer}` {found.shape}: the first {shown} of {found.count} "
                   f"{size}×{size} filters (averaged over input channels when there are several). "
                   "Each slides over the image and responds where the image looks like it: red "
                   "weights want brightness, blue want darkness.")
        st.image(inside.tile(pictures, columns=16, scale=max(4, 48 // size)))
    st.caption(f"Colour scale: ±{limit:.3g} (white = 0).")


def choose_image(panel, data, names: list[str], image_shape) -> tuple | None:
    """(image uint8 (C, H, W), its true class or None, a few words) from the test set, an
    upload or a drawing; None after saying what is missing."""
    sources = ["A test image", "Upload a picture"] + (["Draw one"] if st_canvas else [])
    source_key, index_key = panel.key("inside", "source"), panel.key("inside", "index")
    remembered = kept(source_key, sources[0])
    source = st.radio("Image", sources, horizontal=True, key=source_key,
                      index=sources.index(remembered) if remembered in sources else 0)
    keep(source_key, source)
    image = label = None
    if source == sources[0]:
        last = len(data.test_images) - 1
        index = int(st.number_input(f"Test image # (0 – {last:,})", 0, last,
                                    min(kept(index_key, 0), last), key=index_key))
        keep(index_key, index)
        image, label = data.test_images[index], int(data.test_labels[index])
        description = f"test image #{index:,} (true class: {names[label]})"
    elif source == sources[1]:
        upload = st.file_uploader("A picture (png, jpg, bmp, gif, webp)",
                                  type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
                                  key=panel.key("inside", "upload"),
                                  max_upload_size=state.upload_cap_mb())
        if upload is None:
            st.caption("Upload a picture of a garment; it is made grey, 28 px and light on dark "
                       "like Fashion-MNIST.")
            return None
        too_big = state.upload_too_big(upload.size)
        try:
            if too_big:
                raise ValueError(too_big)
            image = torch.from_numpy(inside.picture_from_upload(upload.getvalue()))
        except ValueError as error:
            st.error(f"{upload.name} refused: {error}.")
            return None
        description = f"your picture {upload.name}"
    else:
        st.caption("Draw a garment in white on black.")
        result = st_canvas(stroke_width=18, stroke_color="#ffffff", background_color="#000000",
                           width=196, height=196, drawing_mode="freedraw", key=panel.key(
                               "inside", "canvas"))
        if result.image_data is None or not result.image_data[..., :3].any():
            return None
        drawn = result.image_data[..., :3].mean(2).astype(np.uint8)
        resized = torch.nn.functional.interpolate(torch.from_numpy(drawn)[None, None].float(),
                                                  size=(28, 28), mode="area")
        image, description = resized[0].round().clamp(0, 255).to(torch.uint8), "your drawing"
    channels, height, width = image_shape
    if tuple(image.shape[-2:]) != (height, width):
        image = torch.nn.functional.interpolate(image[None].float(), size=(height, width),
                                                mode="bilinear")[0].round().to(torch.uint8)
    if image.shape[0] != channels:
        image = image[:1].expand(channels, -1, -1)
    return image, label, description


def layers_view(panel, model, image: torch.Tensor, names: list[str], description: str) -> None:
    activations, probabilities = inside.feature_maps(model, image)
    channels_key = panel.key("inside", "channels")
    shown = st.select_slider("Channels shown per layer", [8, 16, 32, 64],
                             value=kept(channels_key, 16), key=channels_key)
    keep(channels_key, shown)
    st.caption(f"The forward pass of {description}: each layer's output, channel by channel "
               "(bright = large; one colour scale per layer), down to the class scores. "
               "Batch norm and dropout are folded into the layer before them.")
    left, right = st.columns([1, 4])
    left.image(picture(grey_rgb(image), 4), caption="input")
    with right:
        columns = st.columns(2)
        for number, activation in enumerate(activations[:-1] if activations and
                                            activations[-1].values.ndim == 1 else activations):
            with columns[number % 2]:
                layer_picture(activation, shown)
    figure = go.Figure(go.Bar(x=names, y=probabilities, marker_color=[
        "#d62728" if index == int(np.argmax(probabilities)) else "#1f77b4"
        for index in range(len(names))]))
    figure.update_layout(title="Class scores → probabilities (softmax)",
                         yaxis_title="probability", yaxis_range=[0, 1], height=300, **LAYOUT)
    st.plotly_chart(figure, key=panel.key("inside", "probabilities"))


def layer_picture(activation: inside.Activation, shown: int) -> None:
    values = activation.values
    if values.ndim == 3:
        count, height, width = values.shape
        low, high = float(values.min()), float(values.max())
        scaled = (values[:shown] - low) / (high - low if high > low else 1.0)
        pictures = list(inside.colour(scaled, inside._SEQUENTIAL))
        st.image(inside.tile(pictures, columns=min(8, len(pictures)), scale=max(1, 42 // height),
                             padding=1),
                 caption=f"{activation.name} · {activation.kind} · {count} × {height} × {width}"
                         + (f" (first {min(shown, count)})" if count > shown else ""))
    else:
        count = values.shape[0]
        columns = min(32, count)
        padded = np.full(-(-count // columns) * columns, np.nan, np.float32)
        padded[:count] = values
        cells = inside.magnitude_colours(np.nan_to_num(padded, nan=float(values.min())))
        cells = cells.reshape(-1, columns, 3)
        st.image(picture(cells, 8), caption=f"{activation.name} · {activation.kind} · {count} "
                                            "values")


def why_view(panel, model, image: torch.Tensor, label: int | None, names: list[str],
             description: str) -> None:
    method_key, class_key = panel.key("inside", "method"), panel.key("inside", "class")
    choices = list(METHODS)
    method = st.radio("Method", choices, horizontal=True, key=method_key,
                      index=choices.index(kept(method_key, choices[0])),
                      help="Grad-CAM: where the last convolutional maps that raise the class "
                           "score are (coarse, smooth); Gradient: how much each pixel moves the "
                           "score; SmoothGrad: the gradient averaged over 16 noisy copies")
    keep(method_key, method)
    _, probabilities = inside.feature_maps(model, image)
    predicted = int(np.argmax(probabilities))
    runner_up = int(np.argsort(probabilities)[-2])
    default = label if label is not None and label != predicted else runner_up
    remembered = kept(class_key, names[default])
    other = st.selectbox("Compare with the class", names, key=class_key,
                         index=names.index(remembered) if remembered in names else default)
    keep(class_key, other)
    other_index = names.index(other)
    maps, what = inside.explain(model, torch.stack([image, image]),
                                [predicted, other_index], METHODS[method])
    base = inside.grey(image.float().numpy() / 255)
    st.caption(f"{description[0].upper()}{description[1:]}. {what}: the brighter, the more "
               "that part of the image raised the class's score.")
    columns = st.columns(3)
    columns[0].image(picture(grey_rgb(image), 6), caption="the image", width=168)
    columns[1].image(picture(inside.heat_overlay(base, maps[0]), 6), width=168,
                     caption=f"why {names[predicted]} (predicted, {probabilities[predicted]:.0%})")
    columns[2].image(picture(inside.heat_overlay(base, maps[1]), 6), width=168,
                     caption=f"why {other} ({probabilities[other_index]:.1%})")


@st.cache_resource(show_spinner="Classifying the test images ...", max_entries=4)
def _predictions(key: str, _model, _images) -> np.ndarray:
    return inside.predict(_model, _images)


def mistakes_view(panel, model, key: str, payload: dict, data, names: list[str]) -> None:
    """The first misclassified test images (the gallery's), each with where the model looked for
    the class it chose and for the true one."""
    stored = np.asarray((payload.get("evaluation") or {}).get("predicted", []))
    predicted = stored if len(stored) == len(data.test_labels) else \
        _predictions(key, model, data.test_images)
    labels = data.test_labels.numpy()
    wrong = np.flatnonzero(predicted != labels)[:MISTAKES]
    st.markdown("**The misclassified test images: where the model looked**")
    if len(wrong) == 0:
        st.caption("No test image is misclassified.")
        return
    method = METHODS[kept(panel.key("inside", "method"), list(METHODS)[0])]
    images = data.test_images[torch.as_tensor(wrong)]
    # SmoothGrad with 8 noisy copies here (16 for the chosen image): 8 images x 2 classes.
    chose, _ = inside.explain(model, images, torch.as_tensor(predicted[wrong]), method, samples=8)
    truth, _ = inside.explain(model, images, torch.as_tensor(labels[wrong]), method, samples=8)
    st.caption("The first misclassified images of the gallery above; each: the image, why the "
               "class the model chose, why the true class.")
    columns = st.columns(4)
    for number, index in enumerate(wrong):
        base = inside.grey(data.test_images[index].float().numpy() / 255)
        row = [grey_rgb(data.test_images[index]), inside.heat_overlay(base, chose[number]),
               inside.heat_overlay(base, truth[number])]
        columns[number % 4].image(
            inside.tile(row, columns=3, scale=3, padding=2),
            caption=f"#{index}: {names[labels[index]]} → {names[predicted[index]]}")


def class_map_view(panel, model, model_print: str, data, names: list[str]) -> None:
    count = min(inside.MAP_IMAGES, len(data.test_images))
    print_ = data_print(data)
    features = wait_for(*inside.computations.submit(
        inside.class_map_name(model_print, data, count),
        lambda progress: inside.class_map(model, data, count, progress)), "The class map")
    pixels = wait_for(*inside.computations.submit(
        inside.pixel_map_name(data, count),
        lambda progress: inside.pixel_map(data, count, progress)), "The map of the raw pixels")
    if features is None or pixels is None:
        return
    labels = features["labels"]
    frame = pd.DataFrame({
        "fx": features["positions"][:, 0], "fy": features["positions"][:, 1],
        "px": pixels["positions"][:, 0], "py": pixels["positions"][:, 1],
        "class": [names[label] for label in labels],
        "predicted": [names[label] for label in features["predicted"]],
        "index": np.arange(count), "image": hover_images(print_, count, data)})
    st.vega_lite_chart(frame, class_map_spec(names), key=panel.key("inside", "map"))
    st.caption(f"{count:,} test images, placed by t-SNE so that images near each other in the "
               f"network's features (left: {features['what']}) or in their raw pixels (right) "
               "stay near each other on the map; colour = true class. Hover over a point to see "
               "the image and where it sits on the other map. Of each image's 5 nearest "
               "neighbours on the map, most share its class for "
               f"{float(features['agreement']):.0%} of images in the features and "
               f"{float(pixels['agreement']):.0%} in the pixels: "
               "that difference is what the network learned.")


def class_map_spec(names: list[str]) -> dict:
    """Two t-SNE maps side by side (Vega-Lite); hovering a point shows its image and enlarges the
    same image on both maps."""
    def view(name: str, x: str, y: str, title: str) -> dict:
        return {
            "name": name, "width": 360, "height": 360, "title": title,
            "mark": {"type": "circle", "opacity": 0.85, "stroke": "black"},
            "encoding": {
                "x": {"field": x, "type": "quantitative", "axis": None,
                      "scale": {"zero": False}},
                "y": {"field": y, "type": "quantitative", "axis": None,
                      "scale": {"zero": False}},
                "color": {"field": "class", "type": "nominal", "title": "true class",
                          "scale": {"domain": names, "scheme": "tableau10"},
                          "legend": {"symbolStrokeWidth": 0}},
                "size": {"condition": {"param": "hover", "empty": False, "value": 220},
                         "value": 36},
                "strokeWidth": {"condition": {"param": "hover", "empty": False, "value": 2},
                                "value": 0},
                "order": {"condition": {"param": "hover", "empty": False, "value": 1},
                          "value": 0},
                "tooltip": [{"field": "image", "type": "nominal", "title": "image"},
                            {"field": "class", "type": "nominal", "title": "true class"},
                            {"field": "predicted", "type": "nominal", "title": "predicted"},
                            {"field": "index", "type": "quantitative", "title": "test image #"}],
            }}

    return {
        "params": [{"name": "hover", "views": ["features", "pixels"],
                    "select": {"type": "point", "on": "pointerover", "fields": ["index"],
                               "clear": "pointerout"}}],
        "hconcat": [view("features", "fx", "fy", "The network's features"),
                    view("pixels", "px", "py", "The raw pixels")],
        "config": {"view": {"stroke": "#ddd"}},
    }


# GANs --------------------------------------------------------------------------------------------

def gan_inside(panel, source, model_for) -> None:
    """The GAN pages' Inside panel (below the explorer); ``model_for(key, payload)`` is the
    explorer's model cache."""
    loaded = resolve(source)
    if loaded is None:
        return
    payload, key = loaded
    model = model_for(key, payload)
    st.subheader("Inside: what D sees")
    view = st.radio("Look at", GAN_VIEWS, horizontal=True, key=panel.key("inside", "view"),
                    help="the discriminator's scores, its gradient, and whether G copies")
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


@st.cache_resource(show_spinner="D scores real and generated images ...", max_entries=8)
def _scores_now(key: str, _model, _images) -> tuple[np.ndarray, np.ndarray, float | None]:
    real, fake = inside.scores_now(_model, _images, count=SCORE_IMAGES)
    return real, fake, inside.decision_boundary(_model)


def histogram_figure(edges: np.ndarray, real: np.ndarray, fake: np.ndarray,
                     boundary: float | None, title: str) -> go.Figure:
    centres, widths = (edges[1:] + edges[:-1]) / 2, np.diff(edges)
    figure = go.Figure()
    for shares, name, colour in ((real, "real images", "#1f77b4"),
                                 (fake, "generated images", "#ff7f0e")):
        figure.add_bar(x=centres, y=shares, width=widths, name=name, marker_color=colour,
                       opacity=0.6)
    if boundary is not None:
        figure.add_vline(x=boundary, line_dash="dash", line_color="gray",
                         annotation_text="D says \"real\" →", annotation_font_size=10)
    figure.update_layout(title=title, barmode="overlay", xaxis_title="D's score (higher = "
                         "more real)", yaxis_title="share of images", height=360,
                         **{**LAYOUT, "legend": LEGEND_BELOW})
    return figure


def trend_figure(histograms: list, chosen: int) -> go.Figure:
    """The median and the 10–90% band of D's scores on each side, over training."""
    steps = [h.step for h in histograms]
    figure = go.Figure()
    for side, name, colour, fill in (("real", "real", "#1f77b4", "rgba(31,119,180,0.15)"),
                                     ("fake", "generated", "#ff7f0e", "rgba(255,127,14,0.15)")):
        low = [h.quantile(side, 0.1) for h in histograms]
        high = [h.quantile(side, 0.9) for h in histograms]
        figure.add_scatter(x=steps + steps[::-1], y=high + low[::-1], fill="toself",
                           fillcolor=fill, mode="lines", line=dict(width=0),
                           name=f"{name}: 10–90%", hoverinfo="skip")
        figure.add_scatter(x=steps, y=[h.quantile(side, 0.5) for h in histograms],
                           mode="lines", name=f"{name}: median", line=dict(color=colour))
    figure.add_vline(x=chosen, line_color="gray", line_width=1)
    figure.update_layout(title="D's scores over training", xaxis_title="step",
                         yaxis_title="D's score", height=360, **{**LAYOUT, "legend": LEGEND_BELOW})
    return figure


def side_shares(real: np.ndarray, fake: np.ndarray, boundary: float) -> tuple[float, float]:
    return float((real > boundary).mean()), float((fake <= boundary).mean())


def scores_view(panel, model, key: str, payload: dict, data) -> None:
    histograms = _recorded(key, payload)
    left, right = st.columns(2)
    boundary = None
    if data is not None:
        real, fake, boundary = _scores_now(key, model, data.train_images)
        edges = np.linspace(*np.percentile(np.concatenate([real, fake]), [0.5, 99.5]), 31)
        if not edges[-1] > edges[0]:
            edges = np.linspace(edges[0] - 0.5, edges[0] + 0.5, 31)
        share = lambda values: np.histogram(np.clip(values, edges[0], edges[-1]), edges)[0] \
            / len(values)
        right.plotly_chart(histogram_figure(edges, share(real), share(fake), boundary,
                                            "The finished model"),
                           key=panel.key("inside", "now"))
        if boundary is not None:
            real_right, fake_right = side_shares(real, fake, boundary)
            right.caption(f"D calls {real_right:.0%} of {len(real)} training images real and "
                          f"{fake_right:.0%} of {len(fake)} generated images generated "
                          f"(the tutorial's healthy D: about 80% right). The finished model's G"
                          " draws; D reads them as its training step does (batch statistics).")
        else:
            right.caption("This D is an autoencoder: its score is minus how badly it "
                          "reconstructs an image, so there is no real/generated boundary.")
    else:
        right.caption("Fashion-MNIST's images are not available here (or the model draws "
                      "colour images), so the finished model's D is not scored on real ones.")
    with left:
        if not histograms:
            st.caption("This run was trained before D's score histograms were recorded during "
                       "training: train it again to scrub through them.")
            return
        steps = [h.step for h in histograms]
        step_key = panel.key("inside", "step")
        remembered = kept(step_key, steps[-1])
        chosen = st.select_slider("D's scores at step", steps, key=step_key,
                                  value=remembered if remembered in steps else steps[-1]) \
            if len(steps) > 1 else steps[0]
        keep(step_key, chosen)
        histogram = histograms[steps.index(chosen)]
        st.plotly_chart(histogram_figure(histogram.edges, histogram.real, histogram.fake,
                                         boundary, f"During training, step {chosen:,}"),
                        key=panel.key("inside", "then"))
        if len(histograms) > 1:
            st.plotly_chart(trend_figure(histograms, chosen), key=panel.key("inside", "trend"))
        st.caption(f"{gan_task.HISTOGRAM_IMAGES} real and {gan_task.HISTOGRAM_IMAGES} generated "
                   f"images every 2nd metric window of the first {gan_task.HISTOGRAM_EARLY_WINDOWS}"
                   f", then every {gan_task.HISTOGRAM_EVERY_WINDOWS}th, scored by D as its step "
                   "saw them then (G itself, not its weight average). Where the two piles "
                   "overlap, D cannot tell them apart.")


def generated(panel, model) -> tuple[torch.Tensor, torch.Tensor]:
    """A seed and an image picked among ``GENERATED`` drawn from it: (latent (1, L), images)."""
    seed_key, pick_key = panel.key("inside", "seed"), panel.key("inside", "pick")
    left, right = st.columns([1, 3])
    seed = int(left.number_input("Seed", 0, 2**31 - 1, kept(seed_key, 0), key=seed_key))
    keep(seed_key, seed)
    pick = int(left.select_slider("Image", list(range(1, GENERATED + 1)),
                                  value=kept(pick_key, 1), key=pick_key))
    keep(pick_key, pick)
    latents = model.noise(GENERATED, torch.Generator().manual_seed(seed))
    images = model.generate(latents).detach().cpu()
    strip = [inside.to_rgb(image.numpy()) for image in images]
    right.image(inside.tile(strip, columns=GENERATED, scale=2),
                caption=f"seed {seed}: images 1–{GENERATED}; image {pick} is looked at below")
    return latents[pick - 1:pick], images[pick - 1:pick]


def push_view(model, latent: torch.Tensor) -> None:
    push = inside.discriminator_push(model, latent)
    gradient = push.gradient.mean(0)
    columns = st.columns(3)
    scale = max(3, 168 // push.image.shape[-1])
    columns[0].image(picture(inside.to_rgb(push.image), scale), width=168,
                     caption=f"the generated image · D's score {push.score + 0.0:.2f}")
    columns[1].image(picture(inside.signed_colours(gradient), scale), width=168,
                     caption="d score / d pixel: red = brighter would look more real, "
                             "blue = darker")
    columns[2].image(picture(inside.to_rgb(push.nudged), scale), width=168,
                     caption=f"10 small steps that way · D's score {push.nudged_score + 0.0:.2f}")
    st.caption("The gradient of D's score with respect to the image is what G's loss passes back "
               "to G: G is pushed to change its images where this map is strong. Climbing it "
               "a little (right) shows what D would like to see more of.")


@st.cache_resource(show_spinner=False, max_entries=2)
def _bank(name: str, _values: dict) -> tuple[torch.Tensor, np.ndarray]:
    return inside.bank_tensor(_values), np.sort(_values["reference"])


def nearest_view(model, images: torch.Tensor, data) -> None:
    judge = gan_eval.shipped_judge()
    if judge is None:
        st.info("The nearest images are found in the shipped CNN's features: "
                "checkpoints/cnn.pt is missing.")
        return
    if data is None:
        st.info("Fashion-MNIST's training images are not available here (or the model draws "
                "colour images), so there are no training images to compare with.")
        return
    name = inside.bank_name(gan_eval.CLASSIFIER, data)
    values = wait_for(*inside.computations.submit(
        name, lambda progress: inside.training_bank(judge, data, progress)),
        "The training images' features")
    if values is None:
        return
    bank, reference = _bank(name, values)
    query = inside.unit_features(judge, images)
    indices, distances = inside.nearest(bank, query, NEIGHBOURS)
    closer = float(np.searchsorted(reference, distances[0, 0]) / len(reference))
    columns = st.columns([1.3] + [1] * NEIGHBOURS)
    columns[0].image(picture(inside.to_rgb(images[0].numpy()), 3), caption="generated")
    for column, index, distance in zip(columns[1:], indices[0], distances[0]):
        column.image(picture(inside.to_rgb(data.train_images[index].float().numpy() / 127.5 - 1),
                             3), caption=f"#{index:,} · {distance:.2f}")
    verdict = ("closer than almost any real test image is to its nearest training image: it may "
               "be a copy" if closer < 0.05 else
               "about as far as real test images are from theirs: new, not copied"
               if closer < 0.95 else "farther than almost any real test image: unlike the data")
    st.caption(f"Its {NEIGHBOURS} nearest of the {len(data.train_images):,} training images in "
               f"the shipped CNN's features (distance between unit feature vectors). The nearest "
               f"is {distances[0, 0]:.2f} away; {closer:.0%} of {len(reference)} real test images "
               f"are closer to their own nearest training image — {verdict}.")
