import pandas as pd
import streamlit as st

from core.data import images_status
from core.data.fashion_mnist import HOW_TO_GET
from core.device import describe
from core.i18n import _
from core.jobs import manager
from core.registry import MODELS
from ui.navigation import SECTIONS
from ui.pages import page

st.title("DL Studio")
st.markdown(_(
    "Learn deep learning by doing it: train every model of the tutorial in your browser — "
    "classifiers, GANs, image-to-image translation, language models — watch the loss fall and "
    "the samples take shape, then look inside. Every model page can also **load a pretrained "
    "model** at once."))

left, right = st.columns(2)
with left:
    st.subheader(_("This machine"))
    st.write(_("**Device:** {device}").format(device=describe()))
    available, where = images_status()
    st.write(_("**Fashion-MNIST:** {where}").format(where=where))
    if not available:
        st.warning(_(HOW_TO_GET))
    st.write(_("**Training slots:** {slots} job(s) at a time; more wait in a queue and show their "
               "place.").format(slots=manager().max_concurrent))
with right:
    st.subheader(_("How to use a page"))
    st.markdown(_(
        "1. Pick a **preset** (the tutorial's settings, or a better recommended one) and move the sliders.\n"
        "2. Press **Train**: it runs in the background — switch pages, it keeps going; **Stop** stops it.\n"
        "3. Watch it live: a classifier's loss and accuracy beside the tutorial's own, a GAN's "
        "losses, samples and health monitor, a language model's perplexity.\n"
        "4. At the end: a classifier's confusion matrix and the images it got wrong; a GAN's "
        "latent space to explore; and *Inside*, what the network does layer by layer.\n"
        "5. Every run is kept on the **Runs** page: reopen, resume or delete it."))

# A suggested path: each section's pages in the menu's order, the sections in this order (the
# keys are the sections' English names, as the specs and ui/navigation.py write them).
PATH = {
    "Classifiers": _("one idea more on each page: a single layer, hidden layers, convolutions, "
                     "residual connections. Train the tutorial's preset, then the recommended "
                     "one, and open *Inside*."),
    "Workspace": _("reopen a run, compare two settings side by side, or share a board with a "
                   "class."),
    "GANs": _("two networks trained against each other. Start with the first two and try their "
              "mode-collapse demo and a remedy; then each later page adds one fix from its "
              "paper, and *GANs compared* measures them side by side."),
    "Image-to-image": _("GANs that translate an image: from pairs first, then without pairs."),
    "Language": _("from counting n-grams to recurrent networks, on poems, prose or your own "
                  "text."),
}
sections = [name for name in PATH if name in SECTIONS] + \
    [name for name in SECTIONS if name and name not in PATH]

st.subheader(_("Where to start: a path for a beginner"))
st.markdown("\n".join(
    _("{number}. **{section}** ({pages}): {path}").format(
        number=number, section=_(section),
        pages=" → ".join(_(entry.title) for entry in SECTIONS[section]),
        path=PATH.get(section, ""))
    for number, section in enumerate(sections, start=1)))

st.subheader(_("On this site now: every page"))
for section in sections:
    st.markdown(f"**{_(section)}**")
    columns = st.columns(4)
    for index, entry in enumerate(SECTIONS[section]):
        spec = MODELS.get(entry.model) if entry.model else None
        with columns[index % 4]:
            st.page_link(page(entry), label=_(entry.title), icon=entry.icon,
                         help=_(spec.summary) if spec else None)

st.subheader(_("The map: from the perceptron to ResNet"))
st.caption(_("ImageNet top-5 test error as the tutorial quotes it; each of these figures is an "
             "ensemble's, several networks averaged (AlexNet 5, VGG 7, ResNet 6); a single "
             "network did worse (ResNet-152 alone: 4.49% on the validation set)."))
timeline = pd.DataFrame([
    ("1958", _("Perceptron (Rosenblatt)"),
     _("a single layer of weights and a threshold, trained by the perceptron rule: only straight "
       "boundaries"), "—", _("Softmax regression (one layer too)")),
    ("1980", _("Neocognitron (Fukushima)"),
     _("layers of local feature detectors and pooling, the first convolutional design, trained "
       "without back-propagation"), "—", "—"),
    ("1986", _("MLP trained by back-propagation (Rumelhart, Hinton & Williams)"),
     _("hidden layers learn their own features: the prototype of today's deep networks"), "—",
     "MLP (FNN)"),
    ("1989", _("LeCun's CNN (LeCun et al.)"),
     _("convolutions trained by back-propagation, reading handwritten zip codes; LeNet-5 "
       "followed in 1998"), "—", "CNN"),
    ("2012", "AlexNet", _("8 layers trained on GPUs; restarted the deep-learning wave"), "16.4%",
     "CNN"),
    ("2014", "VGG", _("19 layers of small 3×3 convolutions"), "7.3%", "CNN"),
    ("2015", "ResNet",
     _("152 layers, trainable thanks to skip connections; below the human error rate quoted "
       "then (5.1%)"), "3.57%", "ResNet"),
], columns=[_("year"), _("model"), _("why it matters"), _("ImageNet top-5 error"),
            _("page here")])
st.dataframe(timeline, hide_index=True)

st.subheader(_("The GAN line: from the first GAN to StyleGAN"))
st.caption(_("Each paper by the year it was first posted (arXiv), with what it fixed or added; "
             "each links to its page. *GANs compared* measures the shipped ones on one "
             "protocol."))
papers = sorted((spec for spec in MODELS.values() if spec.paper is not None and spec.url_path),
                key=lambda spec: spec.paper.year)
for spec in papers:
    st.page_link(page(spec.name),
                 label=_("{year} · {title}: {fixed}").format(
                     year=spec.paper.year, title=_(spec.title), fixed=_(spec.paper.fixed)),
                 icon=spec.icon, help=_(spec.paper.cite))
