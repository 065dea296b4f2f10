"""The GAN pages' dataset picker: Fashion-MNIST, MNIST/CIFAR-10 via torchvision, or your images."""
from __future__ import annotations

import streamlit as st

from core.data.fashion_mnist import DataUnavailable
from core.data.sources import DataSource
from ui import state

CHOICES = ("Fashion-MNIST", "MNIST (downloads once)", "CIFAR-10 (downloads once)",
           "Your images (.zip upload)", "Your images (folder on this machine)")


def picker(spec) -> None:
    """Widgets that choose the training data of a GAN page (read back by ``load``)."""
    choice = st.selectbox("Dataset", CHOICES, key=f"{spec.name}.dataset",
                          help="the class-coverage checks of the health monitor need Fashion-MNIST")
    if choice.startswith("Your images (.zip"):
        st.file_uploader("Images in a .zip (png, jpg, bmp, gif, webp)", type=["zip"],
                         key=f"{spec.name}.images_zip", max_upload_size=state.upload_cap_mb())
    elif choice.startswith("Your images (folder"):
        st.text_input("Folder path", key=f"{spec.name}.images_folder",
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
            raise DataUnavailable("Upload a .zip of images first.")
        too_big = state.upload_too_big(upload.size)
        if too_big:
            raise DataUnavailable(f"{upload.name} refused: {too_big}.")
        return DataSource.zip_upload(upload.getvalue(), upload.name)   # kept under runs/
    if state.limits().enabled:  # a stranger must not read the server's folders
        raise DataUnavailable("Reading a folder on the server is off on this shared demo; "
                              "upload a .zip of images instead.")
    path = (st.session_state.get(f"{spec.name}.images_folder") or "").strip()
    if not path:
        raise DataUnavailable("Type the path of a folder of images first.")
    source = DataSource.folder(path)
    source.check()
    return source
