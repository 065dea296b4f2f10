"""Where a classifier's classes live: 2-D t-SNE maps (van der Maaten & Hinton 2008,
scikit-learn's ``TSNE``) of the features its class scores are read from, and of the raw pixels,
with the test images as hover pictures."""
from __future__ import annotations

import base64
import io
import math
import re
from typing import Callable

import numpy as np
import torch
from PIL import Image
from torch import nn

from core.i18n import N_, Message, _
from core.inside.cache import CACHE_VERSION, data_fingerprint
from core.inside.looking import as_batch, looking, network_of

MAP_IMAGES = 2000          # test images on a class map
TSNE_ITERATIONS = 500      # enough for 2,000 points to settle; 1,000 (the default) doubles the time

# What a class map's features are, in English in the result (it is kept on disk, for every
# visitor); ``features_words`` says it in the page's language.
LAST_LAYER_INPUTS = N_("the {count} inputs of its last layer")
CLASS_SCORES = N_("its {count} class scores (it has no hidden layer)")


@torch.no_grad()
def penultimate_features(model, images: torch.Tensor, batch_size: int = 500,
                         progress: Callable[[float], None] | None = None
                         ) -> tuple[np.ndarray, np.ndarray, str]:
    """(features (N, F), predictions (N,), what the features are): the input of the network's last
    linear layer, what its class scores are read from. When that layer reads the pixels
    themselves (softmax regression) or there is none, the class scores instead."""
    network = network_of(model)
    linears = [module for module in network.modules() if isinstance(module, nn.Linear)]
    pixels = math.prod(images.shape[1:])
    last = linears[-1] if linears and linears[-1].in_features != pixels else None
    captured: list[torch.Tensor] = []
    features, predictions = [], []
    with looking(network):
        handle = last.register_forward_hook(
            lambda module, inputs, output: captured.append(inputs[0].detach())) if last else None
        try:
            for start in range(0, len(images), batch_size):
                captured.clear()
                logits = network(as_batch(images[start:start + batch_size], network))
                features.append((captured[0] if last else logits).flatten(1).float().cpu())
                predictions.append(logits.argmax(1).cpu())
                if progress:
                    progress(min(1.0, (start + batch_size) / len(images)))
        finally:
            if handle is not None:
                handle.remove()
    what = (LAST_LAYER_INPUTS if last else CLASS_SCORES).format(count=features[0].shape[1])
    return torch.cat(features).numpy(), torch.cat(predictions).numpy(), what


def features_words(what) -> str:
    """What ``penultimate_features`` (or a stored class map) says the features are, in the current
    language; an unknown text as it is."""
    what = str(what)
    for template in (LAST_LAYER_INPUTS, CLASS_SCORES):
        pattern = "^" + re.escape(template).replace(re.escape("{count}"), "(?P<count>[0-9]+)") + "$"
        found = re.match(pattern, what)
        if found:
            return _(template).format(count=found["count"])
    return what


def embed_2d(features: np.ndarray, seed: int = 0, iterations: int = TSNE_ITERATIONS) -> np.ndarray:
    """A 2-D t-SNE map (N, 2) of ``features`` (N, F): PCA to 50 dimensions first (the usual
    preprocessing; it also makes t-SNE's neighbour search cheap), then scikit-learn's TSNE."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    values = np.asarray(features, dtype=np.float32)
    values = values - values.mean(0)
    # One thread: on the 2-core machine shared with training, 2,000 points took 46 s with two
    # OpenMP threads and 6 s with one (bench/inside.py).
    with threadpool_limits(1):
        if values.shape[1] > 50 and len(values) > 50:
            values = PCA(50, random_state=seed).fit_transform(values)
        perplexity = float(min(30.0, max(2.0, (len(values) - 1) / 3)))
        tsne = TSNE(2, perplexity=perplexity, init="pca", learning_rate="auto",
                    max_iter=max(250, iterations), random_state=seed)
        return tsne.fit_transform(values).astype(np.float32)


def neighbour_agreement(positions: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """The share of points whose class most of their ``k`` nearest neighbours on the map share
    (leave-one-out k-NN accuracy): how well the map keeps the classes apart."""
    points = torch.as_tensor(positions, dtype=torch.float32)
    distances = torch.cdist(points, points)
    distances.fill_diagonal_(float("inf"))
    neighbours = distances.topk(min(k, len(points) - 1), largest=False).indices     # (N, k)
    votes = torch.as_tensor(labels)[neighbours]                                      # (N, k)
    majority = torch.mode(votes, dim=1).values
    return float((majority == torch.as_tensor(labels)).float().mean())


def class_map(model, data, count: int = MAP_IMAGES,
              progress: Callable[[float, str], None] | None = None) -> dict[str, np.ndarray]:
    """The map of a classifier's features of the first ``count`` test images: positions (N, 2),
    labels, predictions, the k-NN agreement and what the features are."""
    images, labels = data.test_images[:count], data.test_labels[:count].numpy()
    report = progress or (lambda fraction, text: None)
    features, predicted, what = penultimate_features(
        model, images, progress=lambda f: report(0.1 * f, N_("the network's features")))
    report(0.1, Message(N_("t-SNE of {count:,} feature vectors"), count=len(images)))
    positions = embed_2d(features)
    return {"positions": positions, "labels": labels, "predicted": predicted,
            "agreement": np.float32(neighbour_agreement(positions, labels)),
            "what": np.array(what)}


def pixel_map(data, count: int = MAP_IMAGES,
              progress: Callable[[float, str], None] | None = None) -> dict[str, np.ndarray]:
    """The same map of the raw pixels (the same for every model of a dataset)."""
    images, labels = data.test_images[:count], data.test_labels[:count].numpy()
    if progress:
        progress(0.55, Message(N_("t-SNE of {count:,} images' raw pixels"), count=len(images)))
    positions = embed_2d(images.flatten(1).float().numpy() / 255)
    return {"positions": positions, "labels": labels,
            "agreement": np.float32(neighbour_agreement(positions, labels))}


def png_data_url(picture: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def data_urls(images: torch.Tensor, scale: int = 2) -> list[str]:
    """uint8 (N, 1, H, W) images as PNG data URLs, enlarged ``scale`` times (hover pictures)."""
    pictures = images[:, 0].numpy() if images.shape[1] == 1 else \
        images.permute(0, 2, 3, 1).numpy()
    block = np.ones((scale, scale) + (1,) * (pictures.ndim - 3), np.uint8)
    return [png_data_url(np.kron(picture, block)) for picture in pictures]


def class_map_name(model_print: str, data, count: int = MAP_IMAGES) -> str:
    """The cache name of a model's class map (``model_print``: its ``model_fingerprint``)."""
    return f"map-v{CACHE_VERSION}-{model_print}-{data_fingerprint(data)}-{count}"


def pixel_map_name(data, count: int = MAP_IMAGES) -> str:
    return f"pixels-v{CACHE_VERSION}-{data_fingerprint(data)}-{count}"
