"""Looking inside trained models, for the pages' *Inside* panels (pure torch/numpy: no Streamlit).

Classifiers (anything ``registry.load_model`` rebuilds, or a bare ``nn.Module``): the first layer's
weights as pictures, every layer's output for one image, saliency (Simonyan et al. 2013,
https://arxiv.org/abs/1312.6034; SmoothGrad, Smilkov et al. 2017, https://arxiv.org/abs/1706.03825)
and Grad-CAM (Selvaraju et al. 2017, https://arxiv.org/abs/1610.02391), and 2-D t-SNE maps
(van der Maaten & Hinton 2008, scikit-learn's ``TSNE``) of the features the class scores are read
from. GANs (through ``generate``/``noise``/``discriminator_scores``): D's score histograms on real
and generated images, the gradient of D's score with respect to an image, and the nearest training
images of a generated one in the shipped CNN's features.

Slow results (a t-SNE map, the features of 60,000 training images) are computed once in a worker
thread (``computations``) and kept on disk under ``core.paths.cache_root()``.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import math
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F

from core.classification import ClassifierTrainer
from core.models.gans.base import to_gan_range
from core.paths import cache_root

CACHE_VERSION = 1          # bump when a cached result's meaning changes
MAP_IMAGES = 2000          # test images on a class map
TSNE_ITERATIONS = 500      # enough for 2,000 points to settle; 1,000 (the default) doubles the time
HISTOGRAM_BINS = 16        # bins of D's recorded score histograms
HISTOGRAM_PREFIX = "d_histogram/"

# A network is shared by every visitor of a page; forward hooks on it must not interleave.
_network_lock = threading.RLock()


# Networks ---------------------------------------------------------------------------------------

def network_of(model) -> nn.Module:
    """The network of a classifier (a ``ClassifierTrainer``, as ``registry.load_model`` gives) or
    the module itself."""
    return model.network if isinstance(model, ClassifierTrainer) else model


def device_of(network: nn.Module) -> torch.device:
    parameter = next(network.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


@contextlib.contextmanager
def evaluation(network: nn.Module):
    """Eval mode (running batch-norm statistics, no dropout) for a look, then the modes it had."""
    modes = [module.training for module in network.modules()]
    network.eval()
    try:
        yield network
    finally:
        for module, mode in zip(network.modules(), modes):
            module.training = mode


_threads_lock = threading.Lock()
_one_thread = {"depth": 0, "saved": 1}


@contextlib.contextmanager
def one_thread():
    """A look runs on one thread: on the 2-core machine shared with training jobs, waiting for a
    second OpenMP thread made a small backward pass take 25-50 ms instead of 0.3 ms
    (bench/inside.py). ``torch.set_num_threads`` sets the calling thread's count and the default
    new threads start from, so the count before the first of overlapping looks (two visitors)
    is kept and every look puts that back, never another look's 1."""
    with _threads_lock:
        if _one_thread["depth"] == 0:
            _one_thread["saved"] = torch.get_num_threads()
        _one_thread["depth"] += 1
        saved = _one_thread["saved"]
    torch.set_num_threads(1)
    try:
        yield
    finally:
        with _threads_lock:
            _one_thread["depth"] -= 1
        torch.set_num_threads(saved)


@contextlib.contextmanager
def looking(network: nn.Module):
    """One look at a shared network: alone (hooks must not interleave), on one thread, in eval
    mode."""
    with _network_lock, one_thread(), evaluation(network):
        yield network


def as_batch(images: torch.Tensor, network: nn.Module) -> torch.Tensor:
    """(C, H, W) or (B, C, H, W), uint8 or float in [0, 1] -> float (B, C, H, W) on its device."""
    if images.dim() == 3:
        images = images[None]
    if images.dtype == torch.uint8:
        images = images.float() / 255
    return images.float().to(device_of(network))


def fingerprint_tensors(tensors) -> str:
    """A short hash of some tensors' values (a model's weights, a dataset's images)."""
    digest = hashlib.sha1()
    for tensor in tensors:
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def model_fingerprint(model) -> str:
    network = network_of(model)
    return fingerprint_tensors(list(network.state_dict().values()))


def data_fingerprint(data) -> str:
    """Every 97th image and label of both splits, the sizes and the class names."""
    digest = fingerprint_tensors([data.train_images[::97], data.train_labels[::97],
                                  data.test_images[::97], data.test_labels[::97]])
    extra = f"{len(data.train_images)}:{len(data.test_images)}:{','.join(data.class_names)}"
    return hashlib.sha1((digest + extra).encode()).hexdigest()[:16]


# Layers ------------------------------------------------------------------------------------------

# Layers not worth a picture of their own: in eval mode dropout, flatten and identity change
# nothing, and batch norm rescales the map its convolution just drew.
SKIPPED_LAYERS = (nn.Dropout, nn.Flatten, nn.Identity, nn.BatchNorm1d, nn.BatchNorm2d)


def layers_of(network: nn.Module) -> list[tuple[str, nn.Module]]:
    """The layers a forward pass is shown by: the children of containers (``Sequential``,
    ``ModuleList``), recursively; any other module (a residual block) is one layer."""
    found = []

    def visit(prefix: str, module: nn.Module) -> None:
        for name, child in module.named_children():
            path = f"{prefix}.{name}" if prefix else name
            if isinstance(child, (nn.Sequential, nn.ModuleList)):
                visit(path, child)
            elif not isinstance(child, SKIPPED_LAYERS):
                found.append((path, child))

    visit("", network)
    return found


@dataclass
class Activation:
    """One layer's output for one image."""
    name: str            # the layer's path in the network, e.g. "features.0.0"
    kind: str            # its class: Conv2d, ReLU, MaxPool2d, BasicBlock, Linear, ...
    values: np.ndarray   # (C, H, W) maps or (F,) a vector


@contextlib.contextmanager
def recording(network: nn.Module, detach: bool = True):
    """Yield a list that fills with (name, kind, output) of each layer in the order the forward
    pass runs them (a layer used twice appears twice)."""
    recorded: list[tuple[str, str, torch.Tensor]] = []

    def hook_for(name: str):
        def hook(module, inputs, output):
            if isinstance(output, torch.Tensor):
                # A copy: a later in-place ReLU must not change what was recorded.
                kept = output.detach().clone() if detach else output
                recorded.append((name, type(module).__name__, kept))
        return hook

    handles = [module.register_forward_hook(hook_for(name)) for name, module in layers_of(network)]
    try:
        yield recorded
    finally:
        for handle in handles:
            handle.remove()


def feature_maps(model, image: torch.Tensor) -> tuple[list[Activation], np.ndarray]:
    """Every layer's output for one image ((C, H, W), uint8 or float in [0, 1]), in the order the
    forward pass runs the layers, and the class probabilities (K,)."""
    network = network_of(model)
    with looking(network), torch.no_grad(), recording(network) as recorded:
        logits = network(as_batch(image, network)[:1])
    activations = [Activation(name, kind, output[0].float().cpu()
                              .clone(memory_format=torch.contiguous_format).numpy())
                   for name, kind, output in recorded]
    return activations, logits.softmax(1)[0].float().cpu().numpy()


# Weights as pictures -----------------------------------------------------------------------------

@dataclass
class WeightPictures:
    """The first layer's weights, each unit or filter as a picture."""
    kind: str             # "templates" (a linear layer on the pixels) or "filters" (a convolution)
    layer: str            # the layer's path in the network
    pictures: np.ndarray  # (N, h, w): a template per unit, or a filter (averaged over channels)
    count: int            # units or filters in the layer (``pictures`` may hold fewer)
    shape: tuple          # the layer's weight shape


def first_layer_weights(model, image_shape: tuple | None = None,
                        limit: int = 64) -> WeightPictures | None:
    """The first linear or convolutional layer's weights as pictures; None when the first layer
    is linear but does not read the image's pixels."""
    network = network_of(model)
    if image_shape is None:
        image_shape = model.image_shape if isinstance(model, ClassifierTrainer) else (1, 28, 28)
    channels, height, width = image_shape
    for name, module in network.named_modules():
        if isinstance(module, nn.Conv2d):
            weight = module.weight.detach().float().cpu()            # (out, in, k, k)
            return WeightPictures("filters", name, weight[:limit].mean(1).numpy(),
                                  weight.shape[0], tuple(weight.shape))
        if isinstance(module, nn.Linear):
            weight = module.weight.detach().float().cpu()            # (out, C*H*W)
            if weight.shape[1] != channels * height * width:
                return None
            pictures = weight[:limit].reshape(-1, channels, height, width).mean(1)  # (N, H, W)
            return WeightPictures("templates", name, pictures.numpy(), weight.shape[0],
                                  tuple(weight.shape))
    return None


# Why this prediction -----------------------------------------------------------------------------

def _targets(targets, count: int, device) -> torch.Tensor:
    targets = torch.as_tensor(targets, dtype=torch.long).reshape(-1)
    if len(targets) == 1 and count > 1:
        targets = targets.expand(count)
    return targets.to(device)


def saliency(model, images: torch.Tensor, targets, method: str = "gradient", samples: int = 16,
             noise: float = 0.15, seed: int = 0) -> np.ndarray:
    """How much each pixel moves the score of class ``targets`` (one per image, or one for all):
    |d score / d pixel|, the largest over the channels, (B, H, W). ``method`` "smoothgrad"
    averages it over ``samples`` copies of the image with Gaussian noise of standard deviation
    ``noise`` (images in [0, 1]). A pixel the model never reads gets exactly 0."""
    network = network_of(model)
    batch = as_batch(images, network)
    count, channels, height, width = batch.shape
    targets = _targets(targets, count, batch.device)
    if method == "smoothgrad":
        generator = torch.Generator().manual_seed(seed)
        repeated = batch.repeat_interleave(samples, 0)                       # (B*S, C, H, W)
        noisy = noise * torch.randn(repeated.shape, generator=generator)
        inputs = repeated + noisy.to(batch.device)
        targets = targets.repeat_interleave(samples)
    else:
        inputs = batch.clone()
    inputs.requires_grad_(True)
    with looking(network), torch.enable_grad():
        score = network(inputs).gather(1, targets[:, None]).sum()
        gradient, = torch.autograd.grad(score, inputs)
    magnitude = gradient.abs().amax(1)                                       # (B[*S], H, W)
    if method == "smoothgrad":
        magnitude = magnitude.reshape(count, samples, height, width).mean(1)
    return magnitude.float().cpu().numpy()


def grad_cam(model, images: torch.Tensor, targets) -> tuple[np.ndarray, str] | None:
    """Grad-CAM at the last layer with a spatial map: ReLU(sum_k alpha_k A^k) with alpha_k the
    mean gradient of the class score over map k (the paper's eq. 1-2), upsampled to the image and
    scaled to [0, 1] per image: ((B, H, W), the layer's name). None when no layer outputs a map
    (softmax regression, an MLP)."""
    network = network_of(model)
    batch = as_batch(images, network)
    targets = _targets(targets, len(batch), batch.device)
    with looking(network), torch.enable_grad(), recording(network, detach=False) as recorded:
        logits = network(batch)
        maps = [(name, output) for name, _, output in recorded if output.dim() == 4]
        if not maps:
            return None
        name, activation = maps[-1]                                          # (B, K, h, w)
        score = logits.gather(1, targets[:, None]).sum()
        gradient, = torch.autograd.grad(score, activation)
    weights = gradient.mean((2, 3), keepdim=True)                            # (B, K, 1, 1)
    cam = F.relu((weights * activation.detach()).sum(1, keepdim=True))       # (B, 1, h, w)
    cam = F.interpolate(cam, size=batch.shape[-2:], mode="bilinear", align_corners=False)
    cam = cam[:, 0] / cam.flatten(1).amax(1).clamp(min=1e-12)[:, None, None]  # (B, H, W)
    return cam.float().cpu().numpy(), name


def explain(model, images: torch.Tensor, targets, method: str,
            samples: int = 16) -> tuple[np.ndarray, str]:
    """(maps (B, H, W) in [0, 1], what they are) by ``method``: "grad-cam" (falls back to the
    gradient when the model has no spatial layer), "gradient" or "smoothgrad" (``samples``
    noisy copies per image)."""
    if method == "grad-cam":
        found = grad_cam(model, images, targets)
        if found is not None:
            return found[0], f"Grad-CAM at layer {found[1]}"
        method = "gradient"
    maps = saliency(model, images, targets, method=method, samples=samples)
    # Each map scaled to its own largest value (a saliency map's scale means little).
    maps = maps / np.maximum(maps.reshape(len(maps), -1).max(1), 1e-12)[:, None, None]
    return maps, ("SmoothGrad |d score / d pixel|" if method == "smoothgrad"
                  else "|d score / d pixel|")


@torch.no_grad()
def predict(model, images: torch.Tensor, batch_size: int = 500) -> np.ndarray:
    """Class predictions for uint8 or [0, 1] images (B,)."""
    network = network_of(model)
    with looking(network):
        return torch.cat([network(as_batch(images[start:start + batch_size], network)).argmax(1)
                          .cpu() for start in range(0, len(images), batch_size)]).numpy()


# Where the classes live --------------------------------------------------------------------------

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
    what = (f"the {features[0].shape[1]} inputs of its last layer" if last else
            f"its {features[0].shape[1]} class scores (it has no hidden layer)")
    return torch.cat(features).numpy(), torch.cat(predictions).numpy(), what


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
        model, images, progress=lambda f: report(0.1 * f, "the network's features"))
    report(0.1, f"t-SNE of {len(images):,} feature vectors")
    positions = embed_2d(features)
    return {"positions": positions, "labels": labels, "predicted": predicted,
            "agreement": np.float32(neighbour_agreement(positions, labels)),
            "what": np.array(what)}


def pixel_map(data, count: int = MAP_IMAGES,
              progress: Callable[[float, str], None] | None = None) -> dict[str, np.ndarray]:
    """The same map of the raw pixels (the same for every model of a dataset)."""
    images, labels = data.test_images[:count], data.test_labels[:count].numpy()
    if progress:
        progress(0.55, f"t-SNE of {len(images):,} images' raw pixels")
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


# Slow results: once per process in a worker thread, kept on disk ----------------------------------

def cache_path(name: str):
    return cache_root() / "inside" / f"{name}.npz"


def load_cached(name: str) -> dict[str, np.ndarray] | None:
    path = cache_path(name)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {key: stored[key] for key in stored.files}
    except (OSError, ValueError, EOFError):   # a damaged file: computed again
        return None


def save_cached(name: str, values: dict[str, np.ndarray]) -> None:
    path = cache_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(temporary, "wb") as handle:
        np.savez(handle, **values)
    os.replace(temporary, path)


@dataclass
class Progress:
    """Where a background computation is: a fraction and a few words, read by the page."""
    fraction: float = 0.0
    text: str = "waiting for a free worker"
    started: float = field(default_factory=time.perf_counter)

    def __call__(self, fraction: float, text: str) -> None:
        self.fraction, self.text = fraction, text


class Computations:
    """Slow results computed once per process, one at a time in a worker thread (two cores are
    shared with training jobs), and kept on disk: ``submit`` returns the one future for a name
    and a ``Progress`` the page can show while it runs."""

    def __init__(self, keep: int = 16):
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlstudio-inside")
        self._running: dict[str, tuple[Future, Progress]] = {}
        self._keep = keep

    def submit(self, name: str, compute: Callable[[Progress], dict[str, np.ndarray]]
               ) -> tuple[Future, Progress]:
        with self._lock:
            found = self._running.get(name)
            if found is not None and not (found[0].done() and found[0].exception() is not None):
                return found
            progress = Progress()

            def work() -> dict[str, np.ndarray]:
                progress.started = time.perf_counter()
                stored = load_cached(name)
                if stored is not None:
                    return stored
                values = compute(progress)
                save_cached(name, values)
                return values

            future = self._pool.submit(work)
            self._running[name] = (future, progress)
            while len(self._running) > self._keep:     # forget the oldest finished one
                oldest = next((key for key, (done, _) in self._running.items() if done.done()),
                              None)
                if oldest is None:
                    break
                del self._running[oldest]
            return future, progress


computations = Computations()


def class_map_name(model_print: str, data, count: int = MAP_IMAGES) -> str:
    """The cache name of a model's class map (``model_print``: its ``model_fingerprint``)."""
    return f"map-v{CACHE_VERSION}-{model_print}-{data_fingerprint(data)}-{count}"


def pixel_map_name(data, count: int = MAP_IMAGES) -> str:
    return f"pixels-v{CACHE_VERSION}-{data_fingerprint(data)}-{count}"


# GANs: D's view ----------------------------------------------------------------------------------

@contextlib.contextmanager
def untouched(*networks: nn.Module):
    """Run networks in training mode (batch statistics, as the D step reads) and leave them as
    they were: batch-norm running statistics, spectral norm's power-iteration vectors and the
    train/eval modes are put back, so a look never changes what training does next."""
    buffers = [[buffer.detach().clone() for buffer in network.buffers()] for network in networks]
    modes = [[module.training for module in network.modules()] for network in networks]
    try:
        yield
    finally:
        with torch.no_grad():
            for network, saved in zip(networks, buffers):
                for buffer, value in zip(network.buffers(), saved):
                    buffer.copy_(value)
        for network, saved in zip(networks, modes):
            for module, mode in zip(network.modules(), saved):
                module.training = mode


def histogram_metrics(real_scores: torch.Tensor, fake_scores: torch.Tensor,
                      bins: int = HISTOGRAM_BINS) -> dict[str, float]:
    """D's scores on real and generated images as shares in ``bins`` equal bins between the 1st
    and 99th percentile of all of them (the tails go to the end bins): the ``d_histogram/...``
    metrics a GAN run records now and then."""
    real_scores = real_scores.detach().float().cpu()
    fake_scores = fake_scores.detach().float().cpu()
    scores = torch.cat([real_scores, fake_scores])
    low, high = float(torch.quantile(scores, 0.01)), float(torch.quantile(scores, 0.99))
    if not high - low > 1e-6:
        low, high = low - 0.5, high + 0.5
    values = {f"{HISTOGRAM_PREFIX}low": low, f"{HISTOGRAM_PREFIX}high": high}
    for side, side_scores in (("real", real_scores), ("fake", fake_scores)):
        counts = torch.histc(side_scores.clamp(low, high), bins=bins, min=low, max=high)
        shares = counts / max(len(side_scores), 1)
        values.update({f"{HISTOGRAM_PREFIX}{side}/{index:02d}": float(share)
                       for index, share in enumerate(shares)})
    return values


def discriminator_histogram(trainer, real: torch.Tensor, latent: torch.Tensor,
                            labels: torch.Tensor | None = None,
                            bins: int = HISTOGRAM_BINS) -> dict[str, float]:
    """D's scores on ``real`` images (in [-1, 1]) and on the images G draws from ``latent``, as
    the training step sees them (G itself, batch statistics), as ``histogram_metrics``. Changes
    nothing in the networks (``untouched``)."""
    with torch.no_grad(), untouched(trainer.generator, trainer.discriminator):
        fake = trainer.generate(latent, batch_statistics=True, averaged=False)
        trainer.discriminator.train()
        real_scores = trainer.discriminator_scores(real, labels=labels)
        fake_scores = trainer.discriminator_scores(fake, latent=latent)
    return histogram_metrics(real_scores, fake_scores, bins)


@dataclass
class ScoreHistogram:
    """D's scores at one step: shares of real and of generated images per bin."""
    step: int
    edges: np.ndarray     # (bins + 1,)
    real: np.ndarray      # (bins,) shares, sum 1
    fake: np.ndarray      # (bins,)

    def quantile(self, side: str, q: float) -> float:
        """The score below which a share ``q`` of that side's images lie (linear within a bin)."""
        shares = self.real if side == "real" else self.fake
        cumulative = np.concatenate([[0.0], np.cumsum(shares)])
        return float(np.interp(q * cumulative[-1], cumulative, self.edges))


def recorded_histograms(frame: pd.DataFrame) -> list[ScoreHistogram]:
    """The histograms a run recorded (``d_histogram/...`` metrics), by step; [] when it has none
    (a run trained before they were recorded)."""
    if frame.empty:
        return []
    rows = frame[frame["name"].str.startswith(HISTOGRAM_PREFIX)]
    if rows.empty:
        return []
    table = rows.pivot_table(index="step", columns="name", values="value", aggfunc="last")
    low, high = f"{HISTOGRAM_PREFIX}low", f"{HISTOGRAM_PREFIX}high"
    real = sorted(name for name in table.columns if name.startswith(f"{HISTOGRAM_PREFIX}real/"))
    fake = sorted(name for name in table.columns if name.startswith(f"{HISTOGRAM_PREFIX}fake/"))
    if low not in table or high not in table or not real or len(real) != len(fake):
        return []
    table = table.dropna(subset=[low, high, *real, *fake])
    found = []
    for step, row in table.iterrows():
        edges = np.linspace(row[low], row[high], len(real) + 1)
        found.append(ScoreHistogram(int(step), edges, row[real].to_numpy(float),
                                    row[fake].to_numpy(float)))
    return found


def reconstructs(trainer) -> bool:
    """Whether D is an autoencoder (its output is an image, its score an energy)."""
    probe = torch.zeros(2, *trainer.image_shape, device=trainer.device)
    with _network_lock, torch.no_grad(), one_thread(), untouched(trainer.discriminator):
        trainer.discriminator.eval()
        return trainer.discriminator(probe).shape == probe.shape


def decision_boundary(trainer) -> float | None:
    """The score where D switches from "generated" to "real" for the trainer's loss (a logit of
    0 is D(x) = 0.5); None when D is an autoencoder (its score is minus an energy)."""
    if reconstructs(trainer):
        return None
    return {"bce": 0.0, "hinge": 0.0, "least_squares": 0.5}.get(trainer.loss)


def real_for(trainer, images: torch.Tensor) -> torch.Tensor:
    """uint8 images -> [-1, 1] at the model's size, on its device."""
    return to_gan_range(images.float() / 255, trainer.image_shape[-1]).to(trainer.device)


def scores_now(trainer, real_images: torch.Tensor, count: int = 512,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The finished model: D's scores (as its training step reads them) on ``count`` real images
    (uint8) and on ``count`` images the finished G draws."""
    real = real_for(trainer, real_images[:count])
    latent = trainer.noise(len(real), torch.Generator().manual_seed(seed))
    with _network_lock, torch.no_grad(), one_thread(), \
            untouched(trainer.generator, trainer.discriminator):
        fake = trainer.generate(latent)
        trainer.discriminator.train()
        real_scores = trainer.discriminator_scores(real)
        fake_scores = trainer.discriminator_scores(fake, latent=latent)
    return real_scores.float().cpu().numpy(), fake_scores.float().cpu().numpy()


@dataclass
class Push:
    """What D's gradient asks of one generated image."""
    image: np.ndarray      # (C, H, W) in [-1, 1]
    gradient: np.ndarray   # (C, H, W): d score / d pixel
    score: float           # D's score of the image
    nudged: np.ndarray     # the image moved a step up the gradient
    nudged_score: float


def discriminator_push(trainer, latent: torch.Tensor, step: float = 0.02,
                       steps: int = 10) -> Push:
    """The gradient of D's score with respect to the image G draws from ``latent`` (one): where
    a change would make D call it more real, which is where G's loss pushes G (for the BCE loss
    dL_G/dx = -(1 - D(x)) dlogit/dx, the same direction). D reads the image alone (eval mode).
    ``nudged`` climbs ``steps`` steps of the gradient, each moving the most-pushed pixel by
    ``step`` (images span [-1, 1]): what D would like to see more of."""
    latent = latent[:1]

    def score_and_gradient(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pixels = image.clone().requires_grad_(True)
        with torch.enable_grad():
            score = trainer.discriminator_scores(pixels, latent=latent).sum()
            gradient, = torch.autograd.grad(score, pixels)
        return score.detach(), gradient

    with _network_lock, one_thread(), untouched(trainer.discriminator):
        image = trainer.generate(latent).detach()
        trainer.discriminator.eval()
        score, first = score_and_gradient(image)
        nudged, nudged_score, gradient = image, score, first
        for _ in range(steps):
            nudged = (nudged + step * gradient / gradient.abs().max().clamp(min=1e-12)).clamp(-1, 1)
            nudged_score, gradient = score_and_gradient(nudged)
    return Push(image[0].float().cpu().numpy(), first[0].float().cpu().numpy(), float(score),
                nudged[0].float().cpu().numpy(), float(nudged_score))


# GANs: nearest training images -------------------------------------------------------------------

def unit_features(judge, images: torch.Tensor, batch_size: int = 1000,
                  progress: Callable[[float], None] | None = None) -> torch.Tensor:
    """The judge's penultimate features of images (uint8, or float in [-1, 1]), scaled to length
    1 (N, F) float32: distances between them then rank as the cosine similarity does."""
    found = []
    with one_thread():
        for start in range(0, len(images), batch_size):
            batch = images[start:start + batch_size]
            if batch.dtype == torch.uint8:
                batch = batch.float() / 127.5 - 1
            found.append(F.normalize(judge.logits_and_features(batch)[1].float().cpu(), dim=1))
            if progress:
                progress(min(1.0, (start + batch_size) / len(images)))
    return torch.cat(found)


def nearest(bank: torch.Tensor, queries: torch.Tensor,
            count: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(indices (Q, count), distances (Q, count)) of the nearest rows of ``bank`` to each query
    (rows of unit features: |a - b| = sqrt(2 - 2 cos))."""
    similarity = queries.float() @ bank.float().T                              # (Q, N)
    distances = (2 - 2 * similarity).clamp(min=0).sqrt()
    found = distances.topk(min(count, bank.shape[0]), largest=False)
    return found.indices.numpy(), found.values.numpy()


def training_bank(judge, data, progress: Callable[[float, str], None] | None = None
                  ) -> dict[str, np.ndarray]:
    """The judge's unit features of every training image (float16), and the reference for "copy
    or invent": each of 500 test images' distance to its nearest training image."""
    report = progress or (lambda fraction, text: None)
    count = len(data.train_images)
    bank = unit_features(judge, data.train_images, progress=lambda f: report(
        0.95 * f, f"the shipped CNN's features of {count:,} training images"))
    report(0.95, "distances of test images to their nearest training image")
    test = unit_features(judge, data.test_images[:500])
    reference = nearest(bank, test, 1)[1][:, 0]
    return {"bank": bank.half().numpy(), "reference": reference.astype(np.float32)}


def bank_tensor(values: dict[str, np.ndarray]) -> torch.Tensor:
    """The stored bank as float32 unit rows (float16 storage halves the file; renormalising
    takes most of its rounding out)."""
    return F.normalize(torch.from_numpy(values["bank"]).float(), dim=1)


def bank_name(judge_file, data) -> str:
    stat = judge_file.stat()
    judge = hashlib.sha1(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return f"bank-v{CACHE_VERSION}-{judge}-{data_fingerprint(data)}"


# Pictures (pure numpy: the pages show them) ------------------------------------------------------

_DIVERGING = np.array([[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247],
                       [253, 219, 199], [239, 138, 98], [178, 24, 43]], np.float32)   # RdBu
_SEQUENTIAL = np.array([[68, 1, 84], [72, 40, 120], [62, 73, 137], [49, 104, 142],
                        [38, 130, 142], [31, 158, 137], [53, 183, 121], [110, 206, 88],
                        [181, 222, 43], [253, 231, 37]], np.float32)               # viridis
_HEAT = np.array([[0, 0, 0], [120, 28, 109], [237, 105, 37], [252, 255, 164]],
                 np.float32)                                                     # inferno


def colour(values: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> uint8 RGB (..., 3) along a colour map's anchors."""
    position = np.clip(np.nan_to_num(values), 0, 1) * (len(anchors) - 1)
    low = np.floor(position).astype(int).clip(0, len(anchors) - 2)
    weight = (position - low)[..., None]
    return ((1 - weight) * anchors[low] + weight * anchors[low + 1]).round().astype(np.uint8)


def signed_colours(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """Signed values -> blue (negative), white (0), red (positive), symmetric around 0."""
    limit = limit or float(np.abs(values).max()) or 1.0
    return colour(0.5 + 0.5 * np.asarray(values) / limit, _DIVERGING)


def magnitude_colours(values: np.ndarray) -> np.ndarray:
    """Values scaled to [0, 1] by their own range -> viridis."""
    values = np.asarray(values, dtype=np.float32)
    low, high = float(values.min()), float(values.max())
    return colour((values - low) / (high - low if high > low else 1.0), _SEQUENTIAL)


def heat_overlay(image: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """A grey image ((H, W) in [0, 1]) under a heat map ((H, W) in [0, 1]): the hotter, the more
    of the heat colour shows."""
    grey = np.repeat(np.clip(image, 0, 1)[..., None] * 255, 3, axis=2)
    alpha = np.clip(heat, 0, 1)[..., None] * 0.85
    return ((1 - alpha) * grey + alpha * colour(heat, _HEAT)).round().astype(np.uint8)


def tile(pictures: list[np.ndarray], columns: int, scale: int, padding: int = 2,
         background: int = 255) -> np.ndarray:
    """RGB pictures (h, w, 3) of one size -> one enlarged picture in a grid with gaps."""
    count = len(pictures)
    height, width = pictures[0].shape[:2]
    rows = -(-count // columns)
    size_h, size_w = height * scale, width * scale
    canvas = np.full((rows * (size_h + padding) + padding, columns * (size_w + padding) + padding,
                      3), background, np.uint8)
    block = np.ones((scale, scale, 1), np.uint8)
    for index, picture in enumerate(pictures):
        row, column = divmod(index, columns)
        top, left = padding + row * (size_h + padding), padding + column * (size_w + padding)
        canvas[top:top + size_h, left:left + size_w] = np.kron(picture, block)
    return canvas


def grey(image: np.ndarray) -> np.ndarray:
    """(C, H, W) in [-1, 1] or [0, 1] grey or colour -> (H, W) in [0, 1] for overlays."""
    values = np.asarray(image, dtype=np.float32)
    if values.min() < 0:
        values = (values + 1) / 2
    return values.mean(0) if values.ndim == 3 else values


def to_rgb(image: np.ndarray) -> np.ndarray:
    """(C, H, W) in [-1, 1] -> uint8 RGB (H, W, 3)."""
    values = ((np.clip(np.asarray(image, dtype=np.float32), -1, 1) + 1) * 127.5).round()
    values = values.astype(np.uint8)
    if values.shape[0] == 1:
        values = np.repeat(values, 3, axis=0)
    return values.transpose(1, 2, 0)


def picture_from_upload(raw: bytes, size: int = 28) -> np.ndarray:
    """An uploaded picture as a Fashion-MNIST-like uint8 (1, size, size): grey, resized to fit,
    light-on-dark (inverted when its border is lighter than its middle, as a photo on white
    paper). Raises ValueError for a file that is not a picture."""
    try:
        picture = Image.open(io.BytesIO(raw))
        picture.load()
    except Exception as error:    # PIL raises many kinds for junk
        raise ValueError(f"not a picture PIL can read ({type(error).__name__})") from error
    picture = picture.convert("L")
    picture.thumbnail((size, size), Image.Resampling.LANCZOS)
    values = np.asarray(picture, dtype=np.float32)
    border = np.concatenate([values[0], values[-1], values[:, 0], values[:, -1]]).mean()
    if border > values.mean():
        picture = Image.fromarray((255 - values).astype(np.uint8))
    canvas = Image.new("L", (size, size), 0)
    canvas.paste(picture, ((size - picture.width) // 2, (size - picture.height) // 2))
    return np.asarray(canvas, dtype=np.uint8)[None]
