"""The GAN pages' dataset picker: Fashion-MNIST, MNIST/CIFAR-10 via torchvision, or your images."""
from __future__ import annotations

import streamlit as st

from core.data import image_folder
from core.data.fashion_mnist import DataUnavailable
from ui import state

CHOICES = ("Fashion-MNIST", "MNIST (downloads once)", "CIFAR-10 (downloads once)",
           "Your images (.zip upload)", "Your images (folder on this machine)")


@st.cache_resource(show_spinner="Loading the dataset ...", max_entries=4)
def _torchvision(name: str):
    return image_folder.load_torchvision(name)


@st.cache_resource(show_spinner="Reading your images ...", max_entries=2)
def _zip(file_id: str, _raw: bytes, name: str):
    return image_folder.load_zip(_raw, name)


@st.cache_resource(show_spinner="Reading your images ...", max_entries=2)
def _folder(path: str):
    return image_folder.load_folder(path)


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


def load(spec):
    """The chosen dataset; raises DataUnavailable with a message for the page."""
    choice = st.session_state.get(f"{spec.name}.dataset", CHOICES[0])
    if choice == CHOICES[0]:
        return state.images()
    if choice.startswith("MNIST"):
        return _torchvision("mnist")
    if choice.startswith("CIFAR"):
        return _torchvision("cifar10")
    if choice.startswith("Your images (.zip"):
        upload = st.session_state.get(f"{spec.name}.images_zip")
        if upload is None:
            raise DataUnavailable("Upload a .zip of images first.")
        too_big = state.upload_too_big(upload.size)
        if too_big:
            raise DataUnavailable(f"{upload.name} refused: {too_big}.")
        return _zip(upload.file_id, upload.getvalue(), upload.name)
    if state.limits().enabled:  # a stranger must not read the server's folders
        raise DataUnavailable("Reading a folder on the server is off on this shared demo; "
                              "upload a .zip of images instead.")
    path = (st.session_state.get(f"{spec.name}.images_folder") or "").strip()
    if not path:
        raise DataUnavailable("Type the path of a folder of images first.")
    return _folder(path)
