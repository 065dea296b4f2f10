"""What a training job trains on, as a small description its own process loads.

A job runs in another process (or on another machine of a Ray cluster), so the server does not
hand it tensors: it hands it a ``DataSource``, a frozen dataclass of a few strings that pickles
in microseconds, and the job's process calls ``load(config)``. Kinds:

- ``images``: the default image set (Fashion-MNIST, or the tests' synthetic images when
  ``DLSTUDIO_DATASET=synthetic``);
- ``torchvision``: MNIST or CIFAR-10 through torchvision;
- ``zip``: an uploaded .zip of images, stored once under the runs folder (``_uploads/``), so a
  resumed run and a cluster worker that mounts the same folder find it;
- ``folder``: a folder of images on the machine that trains;
- ``model``: the model's own loader (``ModelSpec.load_data``: a language model's corpus, chosen by
  its settings).
"""
from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core.data.fashion_mnist import DataUnavailable
from core.i18n import _
from core.paths import runs_root

KINDS = ("images", "torchvision", "zip", "folder", "model")
TORCHVISION = {"mnist": "MNIST", "cifar10": "CIFAR-10"}
UPLOADS = "_uploads"


@dataclass(frozen=True)
class DataSource:
    kind: str = "images"
    name: str = ""        # torchvision: mnist | cifar10; model: the spec's name; zip: the file's
    path: str = ""        # zip: relative to the runs folder; folder: the folder

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown data kind {self.kind!r}; one of {', '.join(KINDS)}")

    # Constructors ------------------------------------------------------------------------------
    @classmethod
    def images(cls) -> "DataSource":
        return cls("images")

    @classmethod
    def torchvision(cls, name: str) -> "DataSource":
        if name not in TORCHVISION:
            raise DataUnavailable(_("unknown torchvision dataset {name!r}").format(name=name))
        return cls("torchvision", name)

    @classmethod
    def folder(cls, path: str) -> "DataSource":
        return cls("folder", path=str(Path(path).expanduser()))

    @classmethod
    def zip_upload(cls, raw: bytes, filename: str = "upload.zip") -> "DataSource":
        """Keep an uploaded .zip under the runs folder (once per content) and describe it."""
        if not zipfile.is_zipfile(io.BytesIO(raw)):
            raise DataUnavailable(_("{name} is not a zip archive: upload a .zip of images").format(
                name=filename))
        digest = hashlib.sha256(raw).hexdigest()[:16]
        relative = f"{UPLOADS}/{digest}.zip"
        stored = runs_root() / relative
        if not stored.exists():
            stored.parent.mkdir(parents=True, exist_ok=True)
            temporary = stored.with_suffix(".tmp")
            temporary.write_bytes(raw)
            temporary.replace(stored)
        return cls("zip", Path(filename).name[:100], relative)

    @classmethod
    def for_spec(cls, spec) -> "DataSource":
        """A model's default: its own loader when it has one, else the image set."""
        return cls("model", spec.name) if spec.load_data else cls.images()

    # Use ---------------------------------------------------------------------------------------
    def check(self) -> None:
        """Cheap checks the server can make before queueing (raises DataUnavailable); reading
        the data is the job's."""
        if self.kind == "zip" and not (runs_root() / self.path).is_file():
            raise DataUnavailable(_("{name}: the uploaded images are no longer on this server; "
                                    "upload them again").format(name=self.name))
        if self.kind == "folder" and not Path(self.path).is_dir():
            raise DataUnavailable(_("{folder} is not a folder").format(folder=self.path))

    def load(self, config=None):
        """The data, read in the calling process."""
        from core.data import image_folder, load_images
        if self.kind == "images":
            return load_images()
        if self.kind == "torchvision":
            return image_folder.load_torchvision(self.name)
        if self.kind == "zip":
            self.check()
            return image_folder.load_zip((runs_root() / self.path).read_bytes(), self.name)
        if self.kind == "folder":
            return image_folder.load_folder(self.path)
        from core.registry import MODELS   # (the registry imports every model: only here)
        return MODELS[self.name].load_data(config)

    def describe(self) -> str:
        if self.kind == "images":
            return _("the default image set")
        if self.kind == "model":
            return _("the model's own data")
        if self.kind == "zip":
            return _("uploaded {name}").format(name=self.name)
        return TORCHVISION.get(self.name, self.name) if self.kind == "torchvision" else self.path
