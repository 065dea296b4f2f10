"""Image-to-image data made offline from Fashion-MNIST (no download, the train/test split kept).

Paired (pix2pix, https://arxiv.org/abs/1611.07004): each image gives its own input by a fixed
filter, so every input comes with the image it should become:
  edges      Sobel gradient magnitude, scaled by the image's largest and thresholded at 0.25:
             a white outline on black, about 2 px wide (the shoe classes alone: a small
             edges2shoes);
  thumbnail  the image shrunk to 7 x 7 (area average), each pixel drawn as a 4 x 4 block:
             super-resolution x4, where many garments fit one thumbnail.
Unpaired (CycleGAN, https://arxiv.org/abs/1703.10593): two domains, each the images of one
class, taken from disjoint index sets, so no image of one domain has a partner in the other.
Everything stays uint8 until a batch is drawn.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import torch
from torch.nn import functional as F

from core.data.fashion_mnist import CLASS_NAMES
from core.i18n import N_, _

EDGE_THRESHOLD = 0.25        # of the image's largest gradient: keeps outlines, drops fabric noise
THUMBNAIL_SIZE = 7           # 28 px -> 7 px: a 4x super-resolution task
SHOE_CLASSES = ("Sandal", "Sneaker", "Ankle boot")
CLASS_SETS = {"all": CLASS_NAMES, "shoes": SHOE_CLASSES}

_SOBEL = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def sobel_edges(images: torch.Tensor, threshold: float = EDGE_THRESHOLD) -> torch.Tensor:
    """(N, 1, H, W) images in [0, 1] -> binary outlines {0, 1} of the same shape."""
    kernel = _SOBEL.to(images.device, images.dtype).view(1, 1, 3, 3)
    horizontal = F.conv2d(images, kernel, padding=1)                       # (N, 1, H, W)
    vertical = F.conv2d(images, kernel.transpose(2, 3), padding=1)         # (N, 1, H, W)
    magnitude = (horizontal ** 2 + vertical ** 2).sqrt()
    largest = magnitude.amax(dim=(1, 2, 3), keepdim=True).clamp(min=1e-6)  # (N, 1, 1, 1)
    return (magnitude / largest > threshold).to(images.dtype)


def thumbnails(images: torch.Tensor, size: int = THUMBNAIL_SIZE) -> torch.Tensor:
    """(N, 1, H, W) in [0, 1] -> the same size, made of size x size blocks (area average)."""
    small = F.adaptive_avg_pool2d(images, size)                            # (N, 1, 7, 7)
    return F.interpolate(small, size=images.shape[-2:], mode="nearest")    # (N, 1, 28, 28)


def outline_from_drawing(picture: torch.Tensor) -> torch.Tensor:
    """A drawn outline (white strokes on black, any value in [0, 1], already 28 px) as the edge
    filter's output looks: binary, with the same threshold."""
    return (picture > EDGE_THRESHOLD).to(picture.dtype)


@dataclass(frozen=True)
class PairTask:
    """How a paired task makes its input from an image, and from what a learner draws."""
    title: str
    make_input: Callable[[torch.Tensor], torch.Tensor]      # image in [0, 1] -> input in [0, 1]
    from_drawing: Callable[[torch.Tensor], torch.Tensor]    # drawing in [0, 1] -> input
    lesson: str


# Keys are the config's values; title and lesson are marked here and shown through _().
PAIR_TASKS = {
    "edges": PairTask(N_("edges → garment"), sobel_edges, outline_from_drawing,
                      N_("An outline fixes the shape; the model fills in the shading.")),
    "thumbnail": PairTask(N_("7×7 thumbnail → 28 px"), thumbnails,   # 7 = THUMBNAIL_SIZE
                          thumbnails,
                          N_("Many garments shrink to the same thumbnail: L1 alone draws their "
                             "blurry average, the GAN term picks one sharp garment.")),
}


def class_indices(class_names: tuple[str, ...], wanted: tuple[str, ...]) -> list[int]:
    missing = [name for name in wanted if name not in class_names]
    if missing:
        raise ValueError(_("the data have no class {classes} (these pairs are made from "
                           "Fashion-MNIST)").format(classes=", ".join(missing)))
    return [class_names.index(name) for name in wanted]


def _as_uint8(images: torch.Tensor) -> torch.Tensor:
    return (images * 255).round().to(torch.uint8)


class PairSet:
    """Inputs, targets (uint8, (N, 1, 28, 28)) and the targets' class labels, train and test.

    The training inputs are made on first use: a loaded model's page needs only the test pairs,
    and making the inputs of 60,000 images (Sobel edges) took most of pix2pix's *Load pretrained*.
    """

    def __init__(self, make_input: Callable[[torch.Tensor], torch.Tensor],
                 train: tuple[torch.Tensor, torch.Tensor],
                 test: tuple[torch.Tensor, torch.Tensor, torch.Tensor]):
        self._make_input = make_input
        self.train_targets, self.train_labels = train
        self.test_inputs, self.test_targets, self.test_labels = test
        self._train_inputs: torch.Tensor | None = None
        self._lock = threading.Lock()

    @property
    def train_inputs(self) -> torch.Tensor:
        with self._lock:
            if self._train_inputs is None:
                self._train_inputs = self._make_input(self.train_targets)
            return self._train_inputs


def make_pairs(data, task: str, classes: str = "all") -> PairSet:
    """(input, target) pairs of every image of the chosen classes, train and test kept apart."""
    make_input = PAIR_TASKS[task].make_input
    keep = torch.tensor(class_indices(tuple(data.class_names), CLASS_SETS[classes]))

    def chosen(images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.isin(labels, keep).nonzero().squeeze(1)
        return images.index_select(0, index), labels.index_select(0, index)

    def inputs(targets: torch.Tensor) -> torch.Tensor:
        return _as_uint8(make_input(targets.float() / 255))

    test_targets, test_labels = chosen(data.test_images, data.test_labels)
    return PairSet(inputs, chosen(data.train_images, data.train_labels),
                   (inputs(test_targets), test_targets, test_labels))


def domain_indices(labels: torch.Tensor, class_a: int, class_b: int
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """The index sets of domains A and B (images of one class each). They are disjoint — no image
    of A has a partner in B — which is what makes the translation unpaired; two identical domains
    are refused."""
    if class_a == class_b:
        raise ValueError(_("the two domains are the same class: CycleGAN needs two different "
                           "domains to translate between"))
    a = (labels == class_a).nonzero().squeeze(1)
    b = (labels == class_b).nonzero().squeeze(1)
    if bool(torch.isin(a, b).any()):     # cannot happen with one label per image; checked anyway
        raise ValueError(_("the domains share images"))
    return a, b


@dataclass
class DomainSet:
    """Images of domain A and of domain B (uint8, (N, 1, 28, 28)), train and test, unpaired."""
    train_a: torch.Tensor
    train_b: torch.Tensor
    test_a: torch.Tensor
    test_b: torch.Tensor
    class_a: int
    class_b: int


def make_domains(data, name_a: str, name_b: str) -> DomainSet:
    class_a, class_b = class_indices(tuple(data.class_names), (name_a, name_b))
    train_a, train_b = domain_indices(data.train_labels, class_a, class_b)
    test_a, test_b = domain_indices(data.test_labels, class_a, class_b)
    if min(len(train_a), len(train_b), len(test_a), len(test_b)) == 0:
        raise ValueError(_("no images of {class_a} or {class_b} in the data").format(
            class_a=_(name_a), class_b=_(name_b)))
    return DomainSet(data.train_images.index_select(0, train_a),
                     data.train_images.index_select(0, train_b),
                     data.test_images.index_select(0, test_a),
                     data.test_images.index_select(0, test_b), class_a, class_b)


def to_model_range(images: torch.Tensor, device: torch.device | None = None) -> torch.Tensor:
    """uint8 images -> float in [-1, 1] (what the networks read and write)."""
    if device is not None:
        images = images.to(device)
    return images.float() / 127.5 - 1
