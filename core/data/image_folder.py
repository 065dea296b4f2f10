"""A user's own images for the GAN pages: a folder path or an uploaded .zip, as uint8 tensors.

Images are centre-cropped to a square and resized (32 px by default); all-grey sets stay one
channel, anything in colour becomes RGB. Unreadable files are skipped and counted.
"""
from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from core.data.fashion_mnist import REPO_DATA, DataUnavailable, ImageDataset
from core.i18n import N_, _

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
MAX_IMAGES = 60_000
MAX_ZIP_BYTES = 200 * 1024 * 1024
MIN_IMAGES = 16
MAX_PIXELS = 4096 * 4096          # per image: a bigger one is skipped before it is decoded
READ_SECONDS = 60.0               # reading a whole set of images
UNPACKED_FACTOR = 2               # a zip may unpack to at most this many times the upload cap


def unpacked_cap() -> int:
    """Bytes a zip's images may unpack to: twice the upload cap (the hosted demo's, else the
    app's 200 MB), so a small zip cannot multiply into gigabytes in the job."""
    from core.demo import from_environment   # (the job's process reads the same environment)
    limits = from_environment()
    upload_cap = limits.max_upload_mb * 2**20 if limits.enabled else MAX_ZIP_BYTES
    return UNPACKED_FACTOR * upload_cap


def _square(image: Image.Image, size: int) -> Image.Image:
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BILINEAR)


def _from_images(named, size: int, source: str) -> ImageDataset:
    """``named``: (name, bytes) pairs, or a callable giving them one at a time. An image over
    ``MAX_PIXELS`` is skipped from its header, before decoding; reading stops with a message
    after ``READ_SECONDS``."""
    pictures: list[Image.Image] = []
    skipped = too_big = 0
    deadline = time.monotonic() + READ_SECONDS
    for name, raw in named:
        if time.monotonic() > deadline:
            raise DataUnavailable(_("{source}: reading the images took longer than {seconds:.0f} s "
                                    "({count} read so far); use fewer or smaller images (each "
                                    "is resized to {size} px anyway)").format(
                source=source, seconds=READ_SECONDS, count=len(pictures), size=size))
        try:
            with Image.open(io.BytesIO(raw)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    too_big += 1
                    continue
                image.draft("RGB", (size * 2, size * 2))   # JPEG: decode at a reduced size
                pictures.append(_square(image.convert("RGB"), size))
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            skipped += 1
        if len(pictures) >= MAX_IMAGES:
            break
    if len(pictures) < MIN_IMAGES:
        values = dict(source=source, count=len(pictures), skipped=skipped, too_big=too_big,
                      megapixels=MAX_PIXELS // 10**6, needed=MIN_IMAGES,
                      suffixes=", ".join(SUFFIXES))
        if too_big:
            raise DataUnavailable(_("{source}: found {count} readable images ({skipped} files "
                                    "could not be read, {too_big} over {megapixels} megapixels "
                                    "were skipped); a GAN needs at least {needed}. "
                                    "Accepted: {suffixes}.").format(**values))
        raise DataUnavailable(_("{source}: found {count} readable images ({skipped} files could "
                                "not be read); a GAN needs at least {needed}. "
                                "Accepted: {suffixes}.").format(**values))
    array = np.stack([np.asarray(picture) for picture in pictures])         # (N, H, W, 3)
    is_grey = bool((array[..., 0] == array[..., 1]).all() and (array[..., 1] == array[..., 2]).all())
    tensor = torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()       # (N, 3, H, W)
    if is_grey:
        tensor = tensor[:, :1].contiguous()                                 # (N, 1, H, W)
    held_out = max(len(tensor) // 10, 1)
    labels = torch.zeros(len(tensor), dtype=torch.long)
    return ImageDataset(tensor[:-held_out], labels[:-held_out], tensor[-held_out:], labels[-held_out:],
                        (N_("image"),), source)


def load_folder(path: str | Path, size: int = 32) -> ImageDataset:
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataUnavailable(_("{folder} is not a folder").format(folder=folder))
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
    if not files:
        raise DataUnavailable(_("{folder} holds no images ({suffixes})").format(
            folder=folder, suffixes=", ".join(SUFFIXES)))
    return _from_images(((str(p), p.read_bytes()) for p in files[:MAX_IMAGES]), size, str(folder))


def load_zip(raw: bytes, name: str = "upload.zip", size: int = 32) -> ImageDataset:
    if len(raw) > MAX_ZIP_BYTES:
        raise DataUnavailable(_("{name} is larger than {megabytes} MB").format(
            name=name, megabytes=MAX_ZIP_BYTES // 2**20))
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise DataUnavailable(_("{name} is not a zip archive: upload a .zip of images").format(
            name=name))
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        members = [m for m in archive.infolist()
                   if not m.is_dir() and Path(m.filename).suffix.lower() in SUFFIXES
                   and not Path(m.filename).name.startswith(".")]
        if not members:
            raise DataUnavailable(_("{folder} holds no images ({suffixes})").format(
                folder=name, suffixes=", ".join(SUFFIXES)))
        members = members[:MAX_IMAGES]
        cap = unpacked_cap()
        if sum(m.file_size for m in members) > cap:
            raise DataUnavailable(_("{name} unpacks to {unpacked:,.0f} MB, more than {cap} MB: "
                                    "refused (zip the images themselves, resized, not a larger "
                                    "file)").format(
                name=name, unpacked=sum(m.file_size for m in members) / 2**20, cap=cap // 2**20))
        # One member in memory at a time (zipfile reads no more than a member's declared size).
        return _from_images(((m.filename, archive.read(m)) for m in members), size, name)


def load_torchvision(name: str) -> ImageDataset:
    """MNIST or CIFAR-10 through torchvision (downloads into data/ when online)."""
    import torchvision  # imported lazily: only needed for these downloads
    classes = {"mnist": torchvision.datasets.MNIST, "cifar10": torchvision.datasets.CIFAR10}[name]
    try:
        train = classes(str(REPO_DATA), train=True, download=True)
        test = classes(str(REPO_DATA), train=False, download=True)
    except Exception as error:  # offline, proxy, disk: all mean "not here"
        raise DataUnavailable(_("{name} is not available: torchvision could not download it "
                                "({error}). It needs an internet connection once; "
                                "Fashion-MNIST works offline.").format(
            name=name, error=type(error).__name__)) from None

    def tensors(dataset):
        images = torch.as_tensor(np.asarray(dataset.data))
        images = images.unsqueeze(1) if images.ndim == 3 else images.permute(0, 3, 1, 2)
        return images.contiguous(), torch.as_tensor(np.asarray(dataset.targets), dtype=torch.long)

    train_images, train_labels = tensors(train)
    test_images, test_labels = tensors(test)
    return ImageDataset(train_images, train_labels, test_images, test_labels,
                        tuple(train.classes), f"torchvision {name}")
