"""Fashion-MNIST as whole uint8 tensors (70,000 x 28 x 28, 47 MB), found offline when possible.

Search order: $DLSTUDIO_DATA_ROOT (idx files, or torchvision's FashionMNIST/raw layout), the
repository's ``data/`` folder, Debian's ``dataset-fashion-mnist`` package
(/usr/share/datasets/fashion-mnist), then torchvision's download when online.
Paper: Xiao et al. 2017, https://arxiv.org/abs/1708.07747
"""
from __future__ import annotations

import gzip
import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.i18n import N_, _

# The names are the data's (code compares them); a page shows them through _().
CLASS_NAMES = (N_("T-shirt/top"), N_("Trouser"), N_("Pullover"), N_("Dress"), N_("Coat"),
               N_("Sandal"), N_("Shirt"), N_("Sneaker"), N_("Bag"), N_("Ankle boot"))
DEBIAN_ROOT = Path("/usr/share/datasets/fashion-mnist")
REPO_DATA = Path(__file__).resolve().parents[2] / "data"
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
HOW_TO_GET = N_(       # shown through _() (the pages and the error raised here)
    "Fashion-MNIST was not found. Any one of these fixes it:\n"
    "1. On Debian/Ubuntu: `sudo apt-get install dataset-fashion-mnist` "
    "(puts it in /usr/share/datasets/fashion-mnist; `make run` does this when run as root).\n"
    "2. Download the four `*-idx?-ubyte.gz` files from "
    "github.com/zalandoresearch/fashion-mnist (data/fashion) into a folder and start the app "
    "with `DLSTUDIO_DATA_ROOT=/that/folder`.\n"
    "3. Be online once: torchvision downloads it into `data/`.")


class DataUnavailable(RuntimeError):
    """Fashion-MNIST could not be found or fetched; the message says how to get it."""


@dataclass
class ImageDataset:
    """Images as a uint8 tensor (N, C, H, W) and int64 labels; ``source`` says where they came from."""
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    class_names: tuple[str, ...]
    source: str

    @property
    def image_shape(self) -> tuple[int, int, int]:
        channels, height, width = self.train_images.shape[1:]
        return (channels, height, width)


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 8:
        raise DataUnavailable(_("{path} is truncated").format(path=path))
    _magic, dtype_code, ndim = raw[0] * 256 + raw[1], raw[2], raw[3]
    if dtype_code != 0x08:
        raise DataUnavailable(_("{path} is not an unsigned-byte idx file").format(path=path))
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise DataUnavailable(_("{path} is truncated: {size} of {expected} bytes").format(
            path=path, size=data.size, expected=int(np.prod(shape))))
    return data.reshape(shape)


def _find_file(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def candidate_roots() -> list[Path]:
    roots = []
    if os.environ.get("DLSTUDIO_DATA_ROOT"):
        configured = Path(os.environ["DLSTUDIO_DATA_ROOT"]).expanduser()
        roots += [configured, configured / "FashionMNIST" / "raw"]
    roots += [REPO_DATA / "FashionMNIST" / "raw", REPO_DATA, DEBIAN_ROOT]
    return roots


def find_root() -> Path | None:
    """The first folder holding all four idx files, or None."""
    for root in candidate_roots():
        if all(_find_file(root, stem) for stem in FILES.values()):
            return root
    return None


def _required_file(folder: Path, stem: str) -> Path:
    found = _find_file(folder, stem)
    if found is None:
        raise FileNotFoundError(f"{stem}(.gz) is missing from {folder}")
    return found


def _load_from(root: Path) -> ImageDataset:
    arrays = {key: _read_idx(_required_file(root, stem)) for key, stem in FILES.items()}
    as_images = lambda a: torch.from_numpy(a.copy()).unsqueeze(1)  # (N, 1, 28, 28) uint8
    as_labels = lambda a: torch.from_numpy(a.astype(np.int64))
    return ImageDataset(as_images(arrays["train_images"]), as_labels(arrays["train_labels"]),
                        as_images(arrays["test_images"]), as_labels(arrays["test_labels"]),
                        CLASS_NAMES, str(root))


def _download() -> Path:
    import torchvision  # imported lazily: only needed for the online fallback
    REPO_DATA.mkdir(parents=True, exist_ok=True)
    for train in (True, False):
        torchvision.datasets.FashionMNIST(root=str(REPO_DATA), train=train, download=True)
    return REPO_DATA / "FashionMNIST" / "raw"


_lock = threading.Lock()
_cache: dict[str, ImageDataset] = {}


def load(allow_download: bool = True) -> ImageDataset:
    """Fashion-MNIST, loaded once per process. Raises DataUnavailable with instructions."""
    with _lock:
        if "fmnist" in _cache:
            return _cache["fmnist"]
        root = find_root()
        if root is None and allow_download and os.environ.get("DLSTUDIO_OFFLINE") != "1":
            try:
                root = _download()
            except Exception as error:  # no network, a proxy, a full disk: all mean "not here"
                raise DataUnavailable(_("{how_to_get}\n\n(torchvision's download failed: "
                                        "{error})").format(
                    how_to_get=_(HOW_TO_GET),
                    error=f"{type(error).__name__}: {str(error)[:200]}")) from None
        if root is None:
            raise DataUnavailable(_(HOW_TO_GET))
        _cache["fmnist"] = _load_from(root)
        return _cache["fmnist"]


def status() -> tuple[bool, str]:
    """(available, one line) without downloading anything."""
    root = find_root()
    if root is None:
        return False, _("not found locally (torchvision will try to download it when you train)")
    return True, _("found at {root}").format(root=root)
