"""The GAN pages' dataset picker: Fashion-MNIST, MNIST/CIFAR-10 via torchvision, or your images."""
from __future__ import annotations

import streamlit as st

from core.data.fashion_mnist import DataUnavailable
from core.data.sources import DataSource
from core.i18n import N_, _
from ui import state

# The options' values stay English (``load`` compares them); the picker shows them through _().
CHOICES = ("Fashion-MNIST", N_("MNIST (downloads once)"), N_("CIFAR-10 (downloads once)"),
           N_("Your images (.zip upload)"), N_("Your images (folder on this machine)"))


def picker(spec) -> None:
    """Widgets that choose the training data of a GAN page (read back by ``load``)."""
    choice = st.selectbox(_("Dataset"), CHOICES, key=f"{spec.name}.dataset",
                          format_func=lambda option: _(option),
                          help=_("the class-coverage checks of the health monitor need "
                                 "Fashion-MNIST"))
    if choice.startswith("Your images (.zip"):
        st.file_uploader(_("Images in a .zip (png, jpg, bmp, gif, webp)"), type=["zip"],
                         key=f"{spec.name}.images_zip", max_upload_size=state.upload_cap_mb())
    elif choice.startswith("Your images (folder"):
        st.text_input(_("Folder path"), key=f"{spec.name}.images_folder",
                      placeholder="/home/me/pictures/shoes")


def load(spec) -> DataSource:
    """The chosen dataset, as the description a job's process loads; raises DataUnavailable
    with a message for the page."""
    choice = st.session_state.get(f"{spec.name}.dataset", CHOICES[0])
    if choice == CHOICES[0]:
        return DataSource.images()
    if choice.startswith("MNIST"):
        return DataSource.torchvision("mnist")
    if choice.startswith("CIFAR"):
        return DataSource.torchvision("cifar10")
    if choice.startswith("Your images (.zip"):
        upload = st.session_state.get(f"{spec.name}.images_zip")
        if upload is None:
            raise DataUnavailable(_("Upload a .zip of images first."))
        too_big = state.upload_too_big(upload.size)
        if too_big:
            raise DataUnavailable(_("{name} refused: {reason}.").format(name=upload.name,
                                                                        reason=too_big))
        return DataSource.zip_upload(upload.getvalue(), upload.name)   # kept under runs/
    if state.limits().enabled:  # a stranger must not read the server's folders
        raise DataUnavailable(_("Reading a folder on the server is off on this shared demo; "
                                "upload a .zip of images instead."))
    path = (st.session_state.get(f"{spec.name}.images_folder") or "").strip()
    if not path:
        raise DataUnavailable(_("Type the path of a folder of images first."))
    source = DataSource.folder(path)
    source.check()
    return source
