"""The app's pages, in order and by section: app.py builds its navigation from this list and the
tests visit every page in it (adding a page here puts it in both)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageEntry:
    script: str          # a file in views/
    title: str
    icon: str
    url_path: str        # "" for the home page


SECTIONS: dict[str, list[PageEntry]] = {
    "": [PageEntry("views/home.py", "Home", ":material/home:", "")],
    "Classifiers": [
        PageEntry("views/softmax.py", "Softmax regression", ":material/show_chart:", "softmax"),
        PageEntry("views/mlp.py", "MLP (FNN)", ":material/hub:", "mlp"),
        PageEntry("views/cnn.py", "CNN", ":material/grid_on:", "cnn"),
        PageEntry("views/resnet.py", "ResNet", ":material/stacked_line_chart:", "resnet"),
    ],
    "GANs": [
        PageEntry("views/gan.py", "GAN", ":material/auto_awesome:", "gan"),
        PageEntry("views/dcgan.py", "DCGAN", ":material/blur_on:", "dcgan"),
        PageEntry("views/infogan.py", "infoGAN", ":material/tune:", "infogan"),
        PageEntry("views/began.py", "BEGAN", ":material/balance:", "began"),
        PageEntry("views/sagan.py", "SAGAN", ":material/center_focus_strong:", "sagan"),
        PageEntry("views/biggan.py", "BigGAN", ":material/category:", "biggan"),
        PageEntry("views/stylegan.py", "StyleGAN", ":material/style:", "stylegan"),
        PageEntry("views/gans_compared.py", "GANs compared", ":material/leaderboard:",
                  "gans-compared"),
    ],
    "Image-to-image": [
        PageEntry("views/pix2pix.py", "pix2pix", ":material/draw:", "pix2pix"),
        PageEntry("views/cyclegan.py", "CycleGAN", ":material/sync_alt:", "cyclegan"),
    ],
    "Language": [
        PageEntry("views/lm.py", "Language models", ":material/translate:", "language-model"),
    ],
    "Workspace": [PageEntry("views/workspace.py", "Runs", ":material/folder_open:", "runs"),
                  PageEntry("views/compare.py", "Compare", ":material/compare_arrows:",
                            "compare"),
                  PageEntry("views/class_board.py", "Class board", ":material/groups:", "class")],
}

ALL = [entry for entries in SECTIONS.values() for entry in entries]
