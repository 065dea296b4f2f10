"""The classifier pages' *Inside* panel: the first layer's weights as pictures, the forward pass
layer by layer, what decided a prediction (also for the misclassified test images) and where the
classes live (t-SNE maps of the features and of the raw pixels). The computing is
``core/inside/``; this module only lays it out."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch

from core import inside
from core.i18n import N_, _
from core.images import grid, picture_from_drawing, picture_from_upload, uint8_image
from core.registry import load_model
from ui import pictures, state
from ui.inside_views.common import (LAYOUT, dataset, grey_rgb, keep, kept, picture, resolve,
                                    wait_for)


CLASSIFIER_VIEWS = (N_("Weights"), N_("Layer by layer"), N_("Why this prediction"),
                    N_("Where the classes live"))
METHODS = {"Grad-CAM": "grad-cam", "SmoothGrad": "smoothgrad", N_("Gradient"): "gradient"}
MISTAKES = 8               # misclassified test images explained


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


def classifier_inside(panel, source) -> None:
    """The classifier pages' Inside panel (below the results)."""
    loaded = resolve(source)
    if loaded is None:
        return
    payload, key = loaded
    model, model_print = classifier_for(key, payload)
    data = dataset()
    st.subheader(_("Inside the model"))
    view = st.radio(_("Look at"), CLASSIFIER_VIEWS, horizontal=True, format_func=_,
                    key=panel.key("inside", "view"),
                    help=_("what the trained network does with an image, layer by layer"))
    names = list(data.class_names) if data is not None else \
        [str(index) for index in range(model.num_classes)]
    if view == CLASSIFIER_VIEWS[0]:
        weights_view(model, names)
        return
    if data is None:
        st.info(_("The test images are not available on this machine, so this view is hidden."))
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
        st.caption(_("The first layer does not read the pixels directly, so its weights are not "
                     "pictures."))
        return
    limit = float(np.percentile(np.abs(found.pictures), 99.5)) or 1.0
    pictures = [inside.signed_colours(weights, limit) for weights in found.pictures]
    shown = len(pictures)
    layer, shape = found.title or found.layer, found.shape
    if found.kind == "templates" and found.count == len(names):
        st.caption(_("The first layer ({layer}; weights {shape}): one weight per pixel for each "
                     "class — its template. Red pixels raise the class's score when they are "
                     "bright, blue ones lower it: the score is the image laid over the template, "
                     "summed.").format(layer=layer, shape=shape))
        st.image([picture(p, 4) for p in pictures], caption=[_(name) for name in names],
                 width=112)
    elif found.kind == "templates":
        st.caption(_("The first layer ({layer}; weights {shape}): each hidden unit's weights over "
                     "the pixels, the first {shown} of {count} units. Red: a bright pixel there "
                     "excites the unit; blue: inhibits it.").format(
                         layer=layer, shape=shape, shown=shown, count=found.count))
        st.image(grid(pictures, columns=16, scale=2, padding=2))
    else:
        size = found.pictures.shape[-1]
        st.caption(_("The first layer ({layer}; weights {shape}): the first {shown} of {count} "
                     "{size}×{size} filters (averaged over input channels when there are "
                     "several). Each slides over the image and responds where the image looks "
                     "like it: red weights want brightness, blue want darkness.").format(
                         layer=layer, shape=shape, shown=shown, count=found.count, size=size))
        st.image(grid(pictures, columns=16, scale=max(4, 48 // size), padding=2))
    st.caption(_("Colour scale: ±{limit:.3g} (white = 0).").format(limit=limit))


def uploaded_image(raw: bytes, name: str) -> tuple[torch.Tensor, str]:
    """An uploaded picture as this page reads it: the one reader every page uses
    (``core.images.picture_from_upload``), as a test image is stored: uint8 (1, 28, 28); and
    a note on what was done. Raises ValueError with the reason."""
    picture, note = picture_from_upload(raw, name)
    return uint8_image(picture), note


def drawn_image(rgba) -> torch.Tensor:
    """A canvas drawing as this page reads it: the one reader (``core.images``), uint8
    (1, 28, 28). Raises ValueError with the reason (an empty canvas)."""
    return uint8_image(picture_from_drawing(rgba))


def sentence(words: str) -> str:
    """``words`` with a capital first letter (a reason as a sentence)."""
    return words[:1].upper() + words[1:]


def choose_image(panel, data, names: list[str], image_shape) -> tuple | None:
    """(image uint8 (C, H, W), its true class or None, a few words) from the test set, an
    upload or a drawing; None after saying what is missing."""
    st_canvas = pictures.canvas_component()
    sources = [N_("A test image"), N_("Upload a picture")] + ([N_("Draw one")] if st_canvas
                                                              else [])
    source_key, index_key = panel.key("inside", "source"), panel.key("inside", "index")
    remembered = kept(source_key, sources[0])
    source = st.radio(_("Image"), sources, horizontal=True, key=source_key, format_func=_,
                      index=sources.index(remembered) if remembered in sources else 0)
    keep(source_key, source)
    image = label = None
    if source == sources[0]:
        last = len(data.test_images) - 1
        index = int(st.number_input(_("Test image # (0 – {last:,})").format(last=last), 0, last,
                                    min(kept(index_key, 0), last), key=index_key))
        keep(index_key, index)
        image, label = data.test_images[index], int(data.test_labels[index])
        description = _("test image #{index:,} (true class: {name})").format(
            index=index, name=_(names[label]))
    elif source == sources[1]:
        upload = st.file_uploader(_("A picture (png, jpg, bmp, gif, webp)"),
                                  type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
                                  key=panel.key("inside", "upload"),
                                  max_upload_size=state.upload_cap_mb())
        if upload is None:
            st.caption(_("Upload a picture of a garment; it is made grey, 28 px and light on dark "
                         "like Fashion-MNIST."))
            return None
        too_big = state.upload_too_big(upload.size)
        if too_big:
            st.error(_("{name} refused: {reason}.").format(name=upload.name, reason=too_big))
            return None
        try:
            image, note = uploaded_image(upload.getvalue(), upload.name)
        except ValueError as error:
            st.error(_("{reason}.").format(reason=sentence(str(error))))
            return None
        st.caption(_("{name}: {note}.").format(name=upload.name, note=note))
        description = _("your picture {name}").format(name=upload.name)
    else:
        st.caption(_("Draw a garment in white on black."))
        result = st_canvas(stroke_width=18, stroke_color="#ffffff", background_color="#000000",
                           width=196, height=196, drawing_mode="freedraw", key=panel.key(
                               "inside", "canvas"))
        if result.image_data is None or not result.image_data[..., :3].any():
            return None
        try:
            image = drawn_image(result.image_data)
        except ValueError as error:
            st.info(_("{reason}.").format(reason=sentence(str(error))))
            return None
        description = _("your drawing")
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
    shown = st.select_slider(_("Channels shown per layer"), [8, 16, 32, 64],
                             value=kept(channels_key, 16), key=channels_key)
    keep(channels_key, shown)
    st.caption(_("The forward pass of {description}: each layer's output, channel by channel "
                 "(bright = large; one colour scale per layer), down to the class scores. "
                 "Batch norm and dropout are folded into the layer before them.").format(
                     description=description))
    left, right = st.columns([1, 4])
    left.image(picture(grey_rgb(image), 4), caption=_("input"))
    with right:
        columns = st.columns(2)
        for number, activation in enumerate(activations[:-1] if activations and
                                            activations[-1].values.ndim == 1 else activations):
            with columns[number % 2]:
                layer_picture(activation, shown)
    figure = go.Figure(go.Bar(x=[_(name) for name in names], y=probabilities, marker_color=[
        "#d62728" if index == int(np.argmax(probabilities)) else "#1f77b4"
        for index in range(len(names))]))
    figure.update_layout(title=_("Class scores → probabilities (softmax)"),
                         yaxis_title=_("probability"), yaxis_range=[0, 1], height=300, **LAYOUT)
    st.plotly_chart(figure, key=panel.key("inside", "probabilities"))


def layer_picture(activation: inside.Activation, shown: int) -> None:
    values = activation.values
    if values.ndim == 3:
        count, height, width = values.shape
        low, high = float(values.min()), float(values.max())
        scaled = (values[:shown] - low) / (high - low if high > low else 1.0)
        pictures = list(inside.viridis(scaled))
        layer = activation.title or activation.kind
        caption = (_("{layer} · {count} maps of {height} × {width} (first {shown} shown)")
                   if count > shown else _("{layer} · {count} maps of {height} × {width}"))
        st.image(grid(pictures, columns=min(8, len(pictures)), scale=max(1, 42 // height),
                      padding=1),
                 caption=caption.format(layer=layer, count=count, height=height, width=width,
                                        shown=min(shown, count)))
    else:
        count = values.shape[0]
        columns = min(32, count)
        padded = np.full(-(-count // columns) * columns, np.nan, np.float32)
        padded[:count] = values
        cells = inside.magnitude_colours(np.nan_to_num(padded, nan=float(values.min())))
        cells = cells.reshape(-1, columns, 3)
        st.image(picture(cells, 8), caption=_("{layer} · {count} values").format(
            layer=activation.title or activation.kind, count=count))


def why_view(panel, model, image: torch.Tensor, label: int | None, names: list[str],
             description: str) -> None:
    method_key, class_key = panel.key("inside", "method"), panel.key("inside", "class")
    choices = list(METHODS)
    method = st.radio(_("Method"), choices, horizontal=True, key=method_key, format_func=_,
                      index=choices.index(kept(method_key, choices[0])),
                      help=_("Grad-CAM: where the last convolutional maps that raise the class "
                             "score are (coarse, smooth); Gradient: how much each pixel moves the "
                             "score; SmoothGrad: the gradient averaged over 16 noisy copies"))
    keep(method_key, method)
    _activations, probabilities = inside.feature_maps(model, image)
    predicted = int(np.argmax(probabilities))
    runner_up = int(np.argsort(probabilities)[-2])
    default = label if label is not None and label != predicted else runner_up
    remembered = kept(class_key, names[default])
    other = st.selectbox(_("Compare with the class"), names, key=class_key, format_func=_,
                         index=names.index(remembered) if remembered in names else default)
    keep(class_key, other)
    other_index = names.index(other)
    maps, what = inside.explain(model, torch.stack([image, image]),
                                [predicted, other_index], METHODS[method])
    base = inside.grey(image.float().numpy() / 255)
    st.caption(_("{description}. {method}: the brighter, the more that part of the image raised "
                 "the class's score.").format(description=sentence(description), method=what))
    columns = st.columns(3)
    columns[0].image(picture(grey_rgb(image), 6), caption=_("the image"), width=168)
    columns[1].image(picture(inside.heat_overlay(base, maps[0]), 6), width=168,
                     caption=_("why {name} (predicted, {probability:.0%})").format(
                         name=_(names[predicted]), probability=probabilities[predicted]))
    columns[2].image(picture(inside.heat_overlay(base, maps[1]), 6), width=168,
                     caption=_("why {name} ({probability:.1%})").format(
                         name=_(other), probability=probabilities[other_index]))


@st.cache_resource(show_spinner=False, max_entries=4)
def _predictions(key: str, _model, _images) -> np.ndarray:
    return inside.predict(_model, _images)


def mistakes_view(panel, model, key: str, payload: dict, data, names: list[str]) -> None:
    """The first misclassified test images (the gallery's), each with where the model looked for
    the class it chose and for the true one."""
    stored = np.asarray((payload.get("evaluation") or {}).get("predicted", []))
    if len(stored) == len(data.test_labels):
        predicted = stored
    else:
        with st.spinner(_("Classifying the test images ...")):
            predicted = _predictions(key, model, data.test_images)
    labels = data.test_labels.numpy()
    wrong = np.flatnonzero(predicted != labels)[:MISTAKES]
    st.markdown(_("**The misclassified test images: where the model looked**"))
    if len(wrong) == 0:
        st.caption(_("No test image is misclassified."))
        return
    method = METHODS[kept(panel.key("inside", "method"), list(METHODS)[0])]
    images = data.test_images[torch.as_tensor(wrong)]
    # SmoothGrad with 8 noisy copies here (16 for the chosen image): 8 images x 2 classes.
    chose, _what = inside.explain(model, images, torch.as_tensor(predicted[wrong]), method,
                                  samples=8)
    truth, _what = inside.explain(model, images, torch.as_tensor(labels[wrong]), method, samples=8)
    st.caption(_("The first misclassified images of the gallery above; each: the image, why the "
                 "class the model chose, why the true class."))
    columns = st.columns(4)
    for number, index in enumerate(wrong):
        base = inside.grey(data.test_images[index].float().numpy() / 255)
        row = [grey_rgb(data.test_images[index]), inside.heat_overlay(base, chose[number]),
               inside.heat_overlay(base, truth[number])]
        columns[number % 4].image(
            grid(row, columns=3, scale=3, padding=2),
            caption=_("#{index}: {true} → {predicted}").format(
                index=index, true=_(names[labels[index]]), predicted=_(names[predicted[index]])))


def class_map_view(panel, model, model_print: str, data, names: list[str]) -> None:
    count = min(inside.MAP_IMAGES, len(data.test_images))
    print_ = data_print(data)
    features = wait_for(*inside.computations.submit(
        inside.class_map_name(model_print, data, count),
        lambda progress: inside.class_map(model, data, count, progress)), _("The class map"))
    pixels = wait_for(*inside.computations.submit(
        inside.pixel_map_name(data, count),
        lambda progress: inside.pixel_map(data, count, progress)), _("The map of the raw pixels"))
    if features is None or pixels is None:
        return
    labels = features["labels"]
    frame = pd.DataFrame({
        "fx": features["positions"][:, 0], "fy": features["positions"][:, 1],
        "px": pixels["positions"][:, 0], "py": pixels["positions"][:, 1],
        "class": [_(names[label]) for label in labels],
        "predicted": [_(names[label]) for label in features["predicted"]],
        "index": np.arange(count), "image": hover_images(print_, count, data)})
    st.vega_lite_chart(frame, class_map_spec([_(name) for name in names]),
                       key=panel.key("inside", "map"))
    st.caption(_("{count:,} test images, placed by t-SNE so that images near each other in the "
                 "network's features (left: {what}) or in their raw pixels (right) stay near each "
                 "other on the map; colour = true class. Hover over a point to see the image and "
                 "where it sits on the other map. Of each image's 5 nearest neighbours on the map, "
                 "most share its class for {features:.0%} of images in the features and "
                 "{pixels:.0%} in the pixels: that difference is what the network "
                 "learned.").format(count=count, what=inside.features_words(features["what"]),
                                    features=float(features["agreement"]),
                                    pixels=float(pixels["agreement"])))


def class_map_spec(names: list[str]) -> dict:
    """Two t-SNE maps side by side (Vega-Lite), 255 px each so both and their key fit the view
    column at 1400 px (the key of the class colours below them); hovering a point shows its image
    and enlarges the same image on both maps. ``names``: the class names as shown (translated).
    The tooltip's "image" keeps its English title: vega-tooltip draws the picture of that key."""
    def view(name: str, x: str, y: str, title: str) -> dict:
        return {
            "name": name, "width": 255, "height": 255, "title": title,
            "mark": {"type": "circle", "opacity": 0.85, "stroke": "black"},
            "encoding": {
                "x": {"field": x, "type": "quantitative", "axis": None,
                      "scale": {"zero": False}},
                "y": {"field": y, "type": "quantitative", "axis": None,
                      "scale": {"zero": False}},
                "color": {"field": "class", "type": "nominal", "title": _("true class"),
                          "scale": {"domain": names, "scheme": "tableau10"},
                          "legend": {"symbolStrokeWidth": 0, "orient": "bottom",
                                     "columns": 5, "title": _("colour = true class")}},
                "size": {"condition": {"param": "hover", "empty": False, "value": 220},
                         "value": 36},
                "strokeWidth": {"condition": {"param": "hover", "empty": False, "value": 2},
                                "value": 0},
                "order": {"condition": {"param": "hover", "empty": False, "value": 1},
                          "value": 0},
                "tooltip": [{"field": "image", "type": "nominal", "title": "image"},
                            {"field": "class", "type": "nominal", "title": _("true class")},
                            {"field": "predicted", "type": "nominal", "title": _("predicted")},
                            {"field": "index", "type": "quantitative",
                             "title": _("test image #")}],
            }}

    return {
        "params": [{"name": "hover", "views": ["features", "pixels"],
                    "select": {"type": "point", "on": "pointerover", "fields": ["index"],
                               "clear": "pointerout"}}],
        "hconcat": [view("features", "fx", "fy", _("The network's features")),
                    view("pixels", "px", "py", _("The raw pixels"))],
        "config": {"view": {"stroke": "#ddd"}},
    }
