"""The Inside panels: saliency, Grad-CAM, feature maps, weights, class maps, D's score histograms,
D's gradient, nearest training images, the cache, and every panel opened by AppTest."""
import math
import time

import numpy as np
import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from core import checkpoints, gan_eval, gan_task, images, inside, training
from core.classification import build_trainer
from core.data import synthetic
from core.registry import GANS, MODELS
from tests.conftest import ROOT, tiny_config
from tests.pages import switch_to


@pytest.fixture(scope="module")
def data():
    return synthetic.make(train_count=120, test_count=60)


class LeftBlind(nn.Module):
    """A classifier that multiplies the left half of the image by 0 before a linear layer."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(28 * 28, 10)
        mask = torch.ones(1, 1, 28, 28)
        mask[..., :14] = 0
        self.register_buffer("mask", mask)

    def forward(self, x):
        return self.fc((x * self.mask).flatten(1))


# Why this prediction ---------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["gradient", "smoothgrad"])
def test_saliency_is_zero_where_the_model_ignores_the_image(method):
    torch.manual_seed(0)
    images = torch.rand(4, 1, 28, 28)
    maps = inside.saliency(LeftBlind(), images, [0, 3, 5, 9], method=method)
    assert maps.shape == (4, 28, 28)
    assert np.all(maps[:, :, :14] == 0)
    assert np.all(maps[:, :, 14:].reshape(4, -1).max(1) > 0)


def test_saliency_follows_the_class_weights():
    """For a linear model the gradient of class c's score is row c of the weights."""
    model = LeftBlind()
    maps = inside.saliency(model, torch.rand(1, 1, 28, 28), [7])
    expected = (model.fc.weight[7].detach().reshape(28, 28) * model.mask[0, 0]).abs()
    assert np.allclose(maps[0], expected.numpy(), atol=1e-6)


def test_grad_cam_on_a_cnn_and_its_fallback_without_convolutions(data):
    cnn = build_trainer(MODELS["cnn"], tiny_config(MODELS["cnn"]), data, torch.device("cpu"))
    found = inside.grad_cam(cnn, data.test_images[:3], [0, 1, 2])
    assert found is not None
    maps, layer = found
    assert maps.shape == (3, 28, 28) and layer == "features.1.3"     # the last pooled map
    assert maps.min() >= 0 and np.all(maps.reshape(3, -1).max(1) <= 1 + 1e-6)
    mlp = build_trainer(MODELS["mlp"], tiny_config(MODELS["mlp"]), data, torch.device("cpu"))
    assert inside.grad_cam(mlp, data.test_images[:2], 0) is None
    maps, what = inside.explain(mlp, data.test_images[:2], [0, 1], "grad-cam")
    assert maps.shape == (2, 28, 28) and "d score / d pixel" in what


# Layer by layer --------------------------------------------------------------------------------

def test_feature_map_shapes_match_the_layers(data):
    spec = MODELS["cnn"]
    config = tiny_config(spec, fc_hidden=16)
    model = build_trainer(spec, config, data, torch.device("cpu"))
    activations, probabilities = inside.feature_maps(model, data.test_images[0])
    assert [(a.kind, a.values.shape) for a in activations] == [
        ("Conv2d", (4, 28, 28)), ("ReLU", (4, 28, 28)), ("MaxPool2d", (4, 14, 14)),
        ("Conv2d", (8, 14, 14)), ("ReLU", (8, 14, 14)), ("MaxPool2d", (8, 7, 7)),
        ("Linear", (16,)), ("ReLU", (16,)), ("Linear", (10,))]
    modules = dict(model.network.named_modules())
    for activation in activations:
        layer = modules[activation.name]
        if isinstance(layer, nn.Conv2d):
            assert activation.values.shape[0] == layer.out_channels
        if isinstance(layer, nn.Linear):
            assert activation.values.shape == (layer.out_features,)
    assert math.isclose(float(probabilities.sum()), 1.0, rel_tol=1e-5)
    # The last layer's output is the logits the probabilities come from.
    logits = torch.as_tensor(activations[-1].values)
    assert np.allclose(logits.softmax(0).numpy(), probabilities, atol=1e-6)


def test_resnet_feature_maps_are_its_blocks(data):
    spec = MODELS["resnet"]
    model = build_trainer(spec, tiny_config(spec), data, torch.device("cpu"))   # width 4, n = 1
    activations, _ = inside.feature_maps(model, data.test_images[0])
    blocks = [a.values.shape for a in activations if a.kind == "BasicBlock"]
    assert blocks == [(4, 28, 28), (8, 14, 14), (16, 7, 7)]
    assert activations[-1].kind == "Linear" and activations[-1].values.shape == (10,)


def test_weights_as_pictures(data):
    softmax = build_trainer(MODELS["softmax"], tiny_config(MODELS["softmax"]), data,
                            torch.device("cpu"))
    found = inside.first_layer_weights(softmax)
    assert found.kind == "templates" and found.pictures.shape == (10, 28, 28)
    assert np.allclose(found.pictures[3], softmax.network.fc.weight[3].detach()
                       .reshape(28, 28).numpy())
    cnn = build_trainer(MODELS["cnn"], tiny_config(MODELS["cnn"], kernel_size=3), data,
                        torch.device("cpu"))
    found = inside.first_layer_weights(cnn)
    assert found.kind == "filters" and found.pictures.shape == (4, 3, 3) and found.count == 4


# Where the classes live ------------------------------------------------------------------------

def test_penultimate_features_are_what_the_last_layer_reads(data):
    cnn = build_trainer(MODELS["cnn"], tiny_config(MODELS["cnn"], fc_hidden=16), data,
                        torch.device("cpu"))
    features, predicted, what = inside.penultimate_features(cnn, data.test_images[:10])
    assert features.shape == (10, 16) and "last layer" in what
    assert np.array_equal(predicted, cnn.predict(data.test_images[:10].float() / 255)
                          .argmax(1).numpy())
    softmax = build_trainer(MODELS["softmax"], tiny_config(MODELS["softmax"]), data,
                            torch.device("cpu"))
    features, _, what = inside.penultimate_features(softmax, data.test_images[:10])
    assert features.shape == (10, 10) and "class scores" in what


def test_neighbour_agreement_tells_separated_classes_from_mixed_ones():
    generator = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 25)
    clusters = np.array([[0, 0], [10, 0], [0, 10], [10, 10]])[labels] + generator.normal(
        size=(100, 2))
    assert inside.neighbour_agreement(clusters, labels) == 1.0
    assert inside.neighbour_agreement(generator.normal(size=(100, 2)), labels) < 0.6


def test_class_map_of_a_model_and_of_the_pixels(data):
    cnn = build_trainer(MODELS["cnn"], tiny_config(MODELS["cnn"]), data, torch.device("cpu"))
    stages = []
    found = inside.class_map(cnn, data, count=60, progress=lambda f, text: stages.append(text))
    assert found["positions"].shape == (60, 2) and np.isfinite(found["positions"]).all()
    assert np.array_equal(found["labels"], data.test_labels[:60].numpy())
    assert 0 <= float(found["agreement"]) <= 1 and stages
    pixels = inside.pixel_map(data, count=60)
    # The synthetic classes are distinct patterns: even the raw pixels keep them apart.
    assert float(pixels["agreement"]) > 0.9


def test_slow_results_are_computed_once_and_kept_on_disk(tmp_path):
    calls = []

    def compute(progress):
        calls.append(1)
        progress(0.5, "half")
        return {"values": np.arange(3)}

    first = inside.Computations()
    future, _ = first.submit("answer", compute)
    assert list(future.result(10)["values"]) == [0, 1, 2]
    assert first.submit("answer", compute)[0] is future
    second = inside.Computations()          # a new process: read from disk, not computed
    assert list(second.submit("answer", compute)[0].result(10)["values"]) == [0, 1, 2]
    assert len(calls) == 1
    assert inside.cache_path("answer").exists()


def test_hover_pictures_are_png_data_urls(data):
    urls = inside.data_urls(data.test_images[:3])
    assert len(urls) == 3 and all(url.startswith("data:image/png;base64,") for url in urls)


def png(picture: np.ndarray) -> bytes:
    from PIL import Image
    import io
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_uploaded_picture_on_white_paper_becomes_light_on_dark():
    picture = np.full((60, 40), 250, np.uint8)
    picture[15:45, 10:30] = 20                        # a dark garment on white
    read, note = images.picture_from_upload(png(picture))
    image = images.uint8_image(read)
    assert image.shape == (1, 28, 28) and image.dtype == torch.uint8 and "inverted" in note
    assert image[0, 14, 14] > 200 and image[0, 0, 14] < 50
    with pytest.raises(ValueError):
        images.picture_from_upload(b"not a picture")


def test_a_dark_garment_on_grey_paper_or_a_light_one_on_grey_cloth_reads_light_on_dark():
    """The inversion follows the garment against its surroundings, not a fixed grey."""
    for background, garment, inverted in ((90, 15, True), (150, 240, False)):
        picture = np.full((40, 40), background, np.uint8)
        picture[8:32, 12:28] = garment
        read, note = images.picture_from_upload(png(picture))
        assert ("inverted" in note) == inverted
        assert float(read[0, 0, 14, 14]) > float(read[0, 0, 1, 1]) + 0.2


def test_one_picture_reads_the_same_on_the_classifier_and_translation_pages(tmp_path):
    """Both pages read an upload (and a drawing) with the one reader: the classifier page's
    uint8 image is the translation page's [0, 1] picture, value for value."""
    photo = np.full((50, 70, 3), 200, np.uint8)       # a dark shoe on light grey paper, RGB
    photo[15:35, 10:60] = (40, 30, 20)
    canvas = np.zeros((196, 196, 4), np.uint8)
    canvas[40:150, 80:110] = 255
    (tmp_path / "photo.png").write_bytes(png(photo))
    np.save(tmp_path / "canvas.npy", canvas)

    def script(folder):
        from pathlib import Path

        import numpy as np
        import streamlit as st
        import torch

        from core import images
        from ui import translation_views
        from ui.inside_views import classifier
        raw = (Path(folder) / "photo.png").read_bytes()
        drawing = np.load(Path(folder) / "canvas.npy")
        translated, note = translation_views.picture_from_upload(raw, "photo.png")
        classified, same_note = classifier.uploaded_image(raw, "photo.png")
        drawn = translation_views.picture_from_drawing(drawing)
        st.write(f"one reader: {translation_views.picture_from_upload is images.picture_from_upload}")
        st.write(f"same upload: {torch.equal(classified.float() / 255, translated[0])}")
        st.write(f"same note: {note == same_note}")
        st.write(f"same drawing: {torch.equal(classifier.drawn_image(drawing), images.uint8_image(drawn))}")
        st.write(f"bright garment: {float(translated[0, 0, 14, 14]) > 0.5 > float(translated[0, 0, 0, 0])}")

    app = AppTest.from_function(script, args=(str(tmp_path),), default_timeout=60)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    said = [m.value for m in app.markdown]
    for line in ("one reader", "same upload", "same note", "same drawing", "bright garment"):
        assert f"{line}: True" in said, said


# GANs ------------------------------------------------------------------------------------------

def test_histogram_metrics_and_reading_them_back():
    real, fake = torch.linspace(1, 3, 100), torch.linspace(-3, -1, 100)
    values = inside.histogram_metrics(real, fake, bins=8)
    shares = {side: [values[f"d_histogram/{side}/{k:02d}"] for k in range(8)]
              for side in ("real", "fake")}
    assert math.isclose(sum(shares["real"]), 1, rel_tol=1e-6)
    assert math.isclose(sum(shares["fake"]), 1, rel_tol=1e-6)
    assert math.isclose(sum(shares["real"][4:]), 1, rel_tol=1e-6)   # D tells them apart
    assert math.isclose(sum(shares["fake"][:4]), 1, rel_tol=1e-6)
    frame = pd.DataFrame([[10, 0.1, name, value] for name, value in values.items()] +
                         [[10, 0.1, "loss/generator", 1.0]],
                         columns=["step", "epoch", "name", "value"])
    histogram, = inside.recorded_histograms(frame)
    assert histogram.step == 10 and len(histogram.edges) == 9
    assert histogram.quantile("real", 0.5) > 0 > histogram.quantile("fake", 0.5)
    assert inside.recorded_histograms(frame[frame["name"] == "loss/generator"]) == []


def gan_config(name, **overrides):
    spec = MODELS[name]
    values = {"monitor_every_windows": 0, **overrides}
    if name == "dcgan":
        values.update(generator_width=4, discriminator_width=4, image_size=32)
    return spec, tiny_config(spec, **values)


def test_a_gan_run_records_d_histograms_without_changing_training(data, monkeypatch):
    """The histograms are drawn with their own random generator and the networks are left as
    they were (batch-norm statistics included), so training is the same with and without them."""
    spec, config = gan_config("dcgan")

    def train_six_steps(every: int):
        monkeypatch.setattr(gan_task, "HISTOGRAM_EVERY_WINDOWS", every)
        task = spec.make_task(spec, config, data, torch.device("cpu"))
        order = torch.randperm(task.count, generator=torch.Generator().manual_seed(0))
        windows = []
        for step in range(6):
            task.step(order[step * 16:(step + 1) * 16])
            windows.append(task.window_metrics())
        networks = {**task.trainer.generator.state_dict(),
                    **{f"D.{k}": v for k, v in task.trainer.discriminator.state_dict().items()}}
        return windows, {name: value.clone() for name, value in networks.items()}

    train_six_steps(0)   # the first task of a process loads the judge, which draws from torch's RNG
    windows, plain = train_six_steps(0)
    assert not any("d_histogram/low" in values for values in windows)
    windows, recorded = train_six_steps(2)
    assert ["d_histogram/low" in values for values in windows] == [True, False] * 3
    assert all(torch.equal(plain[name], recorded[name]) for name in plain)


def test_every_gan_scores_images_and_passes_back_a_gradient(data):
    for name in GANS:
        spec, config = gan_config(name)
        trainer = gan_task.make_trainer(spec, config, gan_task.image_shape_for(config, data),
                                        torch.device("cpu"))
        real, fake = inside.scores_now(trainer, data.train_images, count=8)
        assert real.shape == fake.shape == (8,) and np.isfinite(real).all(), name
        boundary = inside.decision_boundary(trainer)
        assert boundary is None or isinstance(boundary, float)
        push = inside.discriminator_push(trainer, trainer.noise(1, torch.Generator()
                                                                .manual_seed(0)), step=0.01)
        assert push.gradient.shape == push.image.shape == trainer.image_shape, name
        assert np.isfinite(push.gradient).all() and np.abs(push.gradient).max() > 0, name


def test_a_step_up_ds_gradient_raises_ds_score(data):
    spec, config = gan_config("gan")
    trainer = gan_task.make_trainer(spec, config, (1, 28, 28), torch.device("cpu"))
    push = inside.discriminator_push(trainer, trainer.noise(1, torch.Generator().manual_seed(3)),
                                     step=0.02)
    assert push.nudged_score > push.score


def test_the_nearest_neighbour_of_a_training_image_is_itself(data):
    judge = gan_eval.shipped_judge()
    if judge is None:
        pytest.skip("checkpoints/cnn.pt is made by the CLI")
    values = inside.training_bank(judge, data)
    bank = inside.bank_tensor(values)
    assert bank.shape[0] == len(data.train_images)
    chosen = [0, 17, 64, 119]
    queries = inside.unit_features(judge, data.train_images[chosen])
    indices, distances = inside.nearest(bank, queries, 3)
    assert list(indices[:, 0]) == chosen
    # 0 up to the rounding of the stored float16 features; other images are far farther.
    assert np.all(distances[:, 0] < 0.02) and np.all(distances[:, 1] > 5 * distances[:, 0])
    # A test image is not in the training set: its nearest is some distance away.
    assert np.all(values["reference"] > 0.05)


# The pages -------------------------------------------------------------------------------------

def settle(app: AppTest, timeout: float = 180) -> AppTest:
    """Rerun while a background result is still computed (its progress bar is shown): in a
    browser the polling fragment redraws the page when it is ready."""
    deadline = time.time() + timeout
    while app.get("progress") and time.time() < deadline:
        time.sleep(0.5)
        app.run()
    return app


def open_with_pretrained(model: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    switch_to(app, model)
    app.run()
    next(b for b in app.button if b.label == "Load pretrained").click()
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.mark.parametrize("model", ["softmax", "mlp", "cnn", "resnet"])
def test_every_classifier_inside_view_opens(model):
    if not (ROOT / "checkpoints" / f"{model}.pt").exists():
        pytest.skip("the shipped checkpoint is made by the CLI")
    app = open_with_pretrained(model)
    assert any(h.value == "Inside the model" for h in app.subheader)
    view = app.radio(key=f"{model}.inside.view")
    for option in view.options:
        view.set_value(option).run()
        settle(app)
        assert not app.exception, (option, [e.value for e in app.exception])
        view = app.radio(key=f"{model}.inside.view")
        if option == "Why this prediction":
            app.radio(key=f"{model}.inside.method").set_value("SmoothGrad").run()
            assert not app.exception, [e.value for e in app.exception]
            assert any("misclassified" in m.value for m in app.markdown)
        if option == "Layer by layer":
            app.number_input(key=f"{model}.inside.index").set_value(5).run()
            assert not app.exception, [e.value for e in app.exception]
            assert any("test image #5" in c.value for c in app.caption)
        if option == "Where the classes live":
            assert app.get("vega_lite_chart"), "no class map drawn"
            assert any("nearest neighbours" in c.value for c in app.caption)


SHIPPED_GANS = [name for name in GANS if (ROOT / "checkpoints" / f"{name}.pt").exists()]


@pytest.mark.parametrize("model", SHIPPED_GANS)
def test_every_gan_inside_view_opens(model):
    app = open_with_pretrained(model)
    assert any(h.value == "Inside: what D sees" for h in app.subheader)
    view = app.radio(key=f"{model}.inside.view")
    for option in view.options:
        view.set_value(option).run()
        settle(app)
        assert not app.exception, (option, [e.value for e in app.exception])
        view = app.radio(key=f"{model}.inside.view")
    app.number_input(key=f"{model}.inside.seed").set_value(4).run()
    settle(app)
    assert not app.exception, [e.value for e in app.exception]
    assert any("nearest" in c.value for c in app.caption)


def test_a_trained_gan_scrubs_through_ds_histograms(data, monkeypatch, tmp_path):
    """A checkpoint whose run recorded D's histograms: its page has a slider over their steps."""
    spec, config = gan_config("dcgan")
    monkeypatch.setattr(gan_task, "HISTOGRAM_EVERY_WINDOWS", 2)
    events = list(training.train(spec, config, data, checkpoint_dir=tmp_path))
    assert isinstance(events[-1], training.Finished)
    raw = (tmp_path / "last.pt").read_bytes()
    payload = checkpoints.load(raw, expected_model="dcgan")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    switch_to(app, "dcgan")
    app.session_state["dcgan.view"] = ("upload", {"name": "last.pt", "payload": payload,
                                                  "bytes": raw})
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    slider = app.select_slider(key="dcgan.inside.step")
    assert list(slider.options) == ["1", "3", "5", "7"]      # 8 windows: 1st, 3rd, 5th, 7th
    slider.set_value(1).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(title.startswith("During training, step 1") for title in plot_titles(app))


def plot_titles(app) -> list[str]:
    import json
    return [json.loads(chart.proto.spec)["layout"]["title"]["text"]
            for chart in app.get("plotly_chart")]


def test_looks_run_on_one_thread_and_put_the_count_back():
    import threading
    torch.set_num_threads(2)
    inside_counts, started, release = [], threading.Event(), threading.Event()

    def look():
        with inside.one_thread():
            inside_counts.append(torch.get_num_threads())
            started.set()
            release.wait(10)

    other = threading.Thread(target=look)
    other.start()
    started.wait(10)
    with inside.one_thread():                 # overlaps the other look
        inside_counts.append(torch.get_num_threads())
    release.set()
    other.join(10)
    assert inside_counts == [1, 1] and torch.get_num_threads() == 2
