"""Classifiers (anything ``registry.load_model`` rebuilds, or a bare ``nn.Module``): the first
layer's weights as pictures, every layer's output for one image, saliency (Simonyan et al. 2013,
https://arxiv.org/abs/1312.6034; SmoothGrad, Smilkov et al. 2017,
https://arxiv.org/abs/1706.03825) and Grad-CAM (Selvaraju et al. 2017,
https://arxiv.org/abs/1610.02391)."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.classification import ClassifierTrainer
from core.i18n import _
from core.inside.looking import as_batch, looking, network_of


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


def _pair_values(value) -> tuple:
    return (value, value) if isinstance(value, int) else tuple(value)


def _pair(value) -> str:
    first, second = _pair_values(value)[:2]
    return f"{first}×{second}"


def _residual_words(module: nn.Module) -> str | None:
    """A residual block (convs + a skip) in words, "2 convs 3×3 + skip, 32 channels, stride 2";
    None for any other module."""
    convs = [child for child in module.children() if isinstance(child, nn.Conv2d)]
    if not (hasattr(module, "shortcut") and convs):
        return None
    stride = max(_pair_values(convs[0].stride))
    values = dict(count=len(convs), kernel=_pair(convs[0].kernel_size),
                  channels=convs[-1].out_channels, stride=stride)
    if stride > 1:
        return _("{count} convs {kernel} + skip, {channels} channels, stride {stride}").format(
            **values)
    return _("{count} convs {kernel} + skip, {channels} channels").format(**values)


def layer_kind(module: nn.Module) -> str:
    """What a layer does, in words: "conv 5×5, 16 filters", "max-pool 2×2", "ReLU",
    "fully connected 1,568 → 10", "residual block: 2 convs 3×3 + skip, 32 channels, stride 2"."""
    if isinstance(module, nn.Conv2d):
        stride = max(_pair_values(module.stride))
        if stride > 1:
            return _("conv {kernel}, {count} filters, stride {stride}").format(
                kernel=_pair(module.kernel_size), count=module.out_channels, stride=stride)
        return _("conv {kernel}, {count} filters").format(kernel=_pair(module.kernel_size),
                                                          count=module.out_channels)
    if isinstance(module, nn.MaxPool2d):
        return _("max-pool {kernel}").format(kernel=_pair(module.kernel_size))
    if isinstance(module, (nn.AvgPool2d, nn.AdaptiveAvgPool2d)):
        return _("average-pool")
    if isinstance(module, nn.Linear):
        return _("fully connected {inputs:,} → {outputs:,}").format(inputs=module.in_features,
                                                                   outputs=module.out_features)
    if isinstance(module, nn.LeakyReLU):
        return _("leaky ReLU")
    if isinstance(module, nn.ReLU):
        return "ReLU"
    residual = _residual_words(module)
    if residual is not None:
        return _("residual block: {details}").format(details=residual)
    return type(module).__name__


def layer_titles(network: nn.Module) -> dict[str, str]:
    """Each shown layer's path (``layers_of``) → what a learner reads: where it sits and what it
    does, e.g. "stage 1 · max-pool 2×2" (a conv stage), "residual block 4 · …", "hidden layer 1 ·
    ReLU", "output layer · fully connected 256 → 10" (the last linear layer)."""
    layers = layers_of(network)
    linears = [path for path, module in layers if isinstance(module, nn.Linear)]
    titles, hidden, blocks = {}, 0, 0
    for path, module in layers:
        parts = path.split(".")
        kind = layer_kind(module)
        if isinstance(module, nn.Linear):
            if path == linears[-1]:
                titles[path] = _("output layer · {kind}").format(kind=kind)
                continue
            hidden += 1
        residual = _residual_words(module)
        if residual is not None:
            blocks += 1
            titles[path] = _("residual block {number} · {details}").format(number=blocks,
                                                                          details=residual)
        elif len(parts) >= 3 and parts[-2].isdigit():      # container.stage.layer: a conv stage
            titles[path] = _("stage {number} · {kind}").format(number=int(parts[-2]) + 1,
                                                               kind=kind)
        elif parts[0] == "stem":
            titles[path] = _("stem · {kind}").format(kind=kind)
        elif hidden:
            titles[path] = _("hidden layer {number} · {kind}").format(number=hidden, kind=kind)
        else:
            titles[path] = kind
    return titles


@dataclass
class Activation:
    """One layer's output for one image."""
    name: str            # the layer's path in the network, e.g. "features.0.0"
    kind: str            # its class: Conv2d, ReLU, MaxPool2d, BasicBlock, Linear, ...
    values: np.ndarray   # (C, H, W) maps or (F,) a vector
    title: str = ""      # what a learner reads: "stage 1 · max-pool 2×2" (``layer_titles``)


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
    titles = layer_titles(network)
    activations = [Activation(name, kind, output[0].float().cpu()
                              .clone(memory_format=torch.contiguous_format).numpy(),
                              titles.get(name, kind))
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
    title: str = ""       # what a learner reads: "stage 1 · conv 5×5, 16 filters"


def first_layer_weights(model, image_shape: tuple | None = None,
                        limit: int = 64) -> WeightPictures | None:
    """The first linear or convolutional layer's weights as pictures; None when the first layer
    is linear but does not read the image's pixels."""
    network = network_of(model)
    if image_shape is None:
        image_shape = model.image_shape if isinstance(model, ClassifierTrainer) else (1, 28, 28)
    channels, height, width = image_shape
    titles = layer_titles(network)
    for name, module in network.named_modules():
        if isinstance(module, nn.Conv2d):
            weight = module.weight.detach().float().cpu()            # (out, in, k, k)
            return WeightPictures("filters", name, weight[:limit].mean(1).numpy(),
                                  weight.shape[0], tuple(weight.shape), titles.get(name, name))
        if isinstance(module, nn.Linear):
            weight = module.weight.detach().float().cpu()            # (out, C*H*W)
            if weight.shape[1] != channels * height * width:
                return None
            pictures = weight[:limit].reshape(-1, channels, height, width).mean(1)  # (N, H, W)
            return WeightPictures("templates", name, pictures.numpy(), weight.shape[0],
                                  tuple(weight.shape), titles.get(name, name))
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
        maps = [(name, output) for name, _kind, output in recorded if output.dim() == 4]
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
            title = layer_titles(network_of(model)).get(found[1], found[1])
            return found[0], _("Grad-CAM at layer {layer}").format(layer=title)
        method = "gradient"
    maps = saliency(model, images, targets, method=method, samples=samples)
    # Each map scaled to its own largest value (a saliency map's scale means little).
    maps = maps / np.maximum(maps.reshape(len(maps), -1).max(1), 1e-12)[:, None, None]
    return maps, (_("SmoothGrad |d score / d pixel|") if method == "smoothgrad"
                  else _("|d score / d pixel|"))


@torch.no_grad()
def predict(model, images: torch.Tensor, batch_size: int = 500) -> np.ndarray:
    """Class predictions for uint8 or [0, 1] images (B,)."""
    network = network_of(model)
    with looking(network):
        return torch.cat([network(as_batch(images[start:start + batch_size], network)).argmax(1)
                          .cpu() for start in range(0, len(images), batch_size)]).numpy()
