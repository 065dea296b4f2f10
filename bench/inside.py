"""The Inside panels' speed on the shipped checkpoints (Fashion-MNIST when it is on the machine).

    python bench/inside.py                      # every classifier and shipped GAN
    python bench/inside.py --models cnn dcgan --repeats 5
    python bench/inside.py --pages              # also the whole page's rerun in AppTest

For each view: the median of ``--repeats`` renders of what the view computes (the same core
functions and pictures the page draws), after the first computation; and, once, the first-time
computations (the t-SNE maps, the training images' features), which go to the disk cache under
``runs/_cache/inside`` (delete it to measure them again). ``--pages`` also times whole page
reruns with Streamlit's AppTest (the rest of the page included).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import checkpoints, gan_eval, inside  # noqa: E402
from core.images import grid  # noqa: E402
from core.data import load_images  # noqa: E402
from core.device import configure  # noqa: E402
from core.registry import CLASSIFIERS, GANS, load_model  # noqa: E402

CHECKPOINTS = ROOT / "checkpoints"


def median_time(work, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def once(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def layer_pictures(activations, shown: int = 16) -> list[np.ndarray]:
    """The pictures the layer-by-layer view draws (as ``ui.inside_views.classifier.layer_picture``)."""
    pictures = []
    for activation in activations:
        values = activation.values
        if values.ndim == 3:
            low, high = float(values.min()), float(values.max())
            scaled = (values[:shown] - low) / (high - low if high > low else 1.0)
            pictures.append(grid(list(inside.viridis(scaled)), columns=8,
                                 scale=max(1, 42 // values.shape[1]), padding=2))
        else:
            pictures.append(inside.magnitude_colours(values))
    return pictures


def bench_classifier(name: str, data, repeats: int) -> dict:
    payload = checkpoints.load(CHECKPOINTS / f"{name}.pt", expected_model=name)
    model = load_model(payload, torch.device("cpu"))
    image = data.test_images[0]
    labels = data.test_labels.numpy()
    stored = np.asarray((payload.get("evaluation") or {}).get("predicted", []))
    predicted = stored if len(stored) == len(labels) else inside.predict(model, data.test_images)
    wrong = np.flatnonzero(predicted != labels)[:8]
    mistakes = data.test_images[torch.as_tensor(wrong)]
    figures = {}

    def weights():
        found = inside.first_layer_weights(model)
        grid([inside.signed_colours(w) for w in found.pictures], columns=16, scale=2, padding=2)

    def layers():
        layer_pictures(inside.feature_maps(model, image)[0])

    def why(method):
        def work():
            inside.feature_maps(model, image)
            inside.explain(model, torch.stack([image, image]), [0, 1], method)
            inside.explain(model, mistakes, torch.as_tensor(predicted[wrong]), method, samples=8)
            inside.explain(model, mistakes, torch.as_tensor(labels[wrong]), method, samples=8)
        return work

    figures["weights"] = median_time(weights, repeats)
    figures["layer by layer"] = median_time(layers, repeats)
    for label, method in (("why: Grad-CAM", "grad-cam"), ("why: SmoothGrad", "smoothgrad"),
                          ("why: gradient", "gradient")):
        figures[label] = median_time(why(method), repeats)

    # Where the classes live: the first time (t-SNE), then a render from the cache.
    count = min(inside.MAP_IMAGES, len(data.test_images))
    model_print = inside.model_fingerprint(model)
    name_map = inside.class_map_name(model_print, data, count)
    first, _ = once(lambda: inside.computations.submit(
        name_map, lambda progress: inside.class_map(model, data, count, progress))[0].result())
    figures["class map, first time (features + t-SNE)"] = first
    first, _ = once(lambda: inside.computations.submit(
        inside.pixel_map_name(data, count),
        lambda progress: inside.pixel_map(data, count, progress))[0].result())
    figures["pixel map, first time (t-SNE; once per dataset)"] = first
    urls = inside.data_urls(data.test_images[:count])

    def map_render():
        import pandas as pd
        features = inside.computations.submit(name_map, None)[0].result()
        pd.DataFrame({"fx": features["positions"][:, 0], "fy": features["positions"][:, 1],
                      "class": features["labels"], "image": urls})

    figures["class map, a render (from memory)"] = median_time(map_render, repeats)
    figures["class map, from disk (a new server process)"] = median_time(
        lambda: inside.load_cached(name_map), repeats)
    figures["model fingerprint (the cache key)"] = median_time(
        lambda: inside.model_fingerprint(model), repeats)
    return figures


def bench_gan(name: str, data, repeats: int) -> dict:
    payload = checkpoints.load(CHECKPOINTS / f"{name}.pt", expected_model=name)
    model = load_model(payload, torch.device("cpu"))
    figures = {}
    figures["D's scores: the finished model (first time, then cached)"] = once(
        lambda: inside.scores_now(model, data.train_images, count=512))[0]
    import pandas as pd
    from core.runs import METRIC_COLUMNS
    figures["D's scores: recorded histograms read (first time, then cached)"] = once(
        lambda: inside.recorded_histograms(pd.DataFrame(payload.get("metrics", []),
                                                        columns=METRIC_COLUMNS)))[0]
    latents = model.noise(8, torch.Generator().manual_seed(0))

    def push():
        model.generate(latents)
        inside.discriminator_push(model, latents[:1])

    figures["what D would change"] = median_time(push, repeats)
    judge = gan_eval.shipped_judge()
    bank_name = inside.bank_name(gan_eval.CLASSIFIER, data)
    first, values = once(lambda: inside.computations.submit(
        bank_name, lambda progress: inside.training_bank(judge, data, progress))[0].result())
    figures["nearest: training features, first time (once per dataset)"] = first
    bank = inside.bank_tensor(values)

    def nearest():
        images = model.generate(latents)
        inside.nearest(bank, inside.unit_features(judge, images[:1]), 8)

    figures["nearest training images"] = median_time(nearest, repeats)
    figures["nearest: the bank from disk (a new server process)"] = median_time(
        lambda: inside.bank_tensor(inside.load_cached(bank_name)), 1)
    return figures


def bench_pages(models: list[str], repeats: int) -> dict:
    """Whole page reruns in AppTest with each Inside view open (the rest of the page included)."""
    from streamlit.testing.v1 import AppTest

    from tests.pages import switch_to
    figures = {}
    for name in models:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        app.run()
        switch_to(app, name)
        app.run()
        next(b for b in app.button if b.label == "Load pretrained").click()
        app.run()
        radio = app.radio(key=f"{name}.inside.view")
        for option in radio.options:
            app.radio(key=f"{name}.inside.view").set_value(option).run()   # first: caches fill
            figures[f"{name}: page with '{option}'"] = median_time(lambda: app.run(), repeats)  # noqa: B023 (called at once)
            assert not app.exception, [e.value for e in app.exception]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pages", action="store_true")
    args = parser.parse_args()
    device = configure()
    data = load_images()
    print(f"data: {data.source} ({len(data.train_images):,} train, "
          f"{len(data.test_images):,} test); {torch.get_num_threads()} torch threads on {device}")
    shipped = [name for name in CLASSIFIERS + GANS if (CHECKPOINTS / f"{name}.pt").exists()]
    models = [name for name in (args.models or shipped) if name in shipped]
    for name in models:
        work = bench_classifier if name in CLASSIFIERS else bench_gan
        for label, seconds in work(name, data, args.repeats).items():
            print(f"{name:8s} {label:58s} {seconds * 1000:9.1f} ms", flush=True)
    if args.pages:
        for label, seconds in bench_pages(models, args.repeats).items():
            print(f"{label:68s} {seconds * 1000:9.1f} ms", flush=True)


if __name__ == "__main__":
    main()
