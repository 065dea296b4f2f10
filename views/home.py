import pandas as pd
import streamlit as st

from core.data import images_status
from core.data.fashion_mnist import HOW_TO_GET
from core.device import describe
from core.jobs import manager

st.title("DL Studio")
st.markdown(
    "Learn deep learning by doing it: train every classic model of the tutorial in your browser, "
    "watch the loss fall and the accuracy climb, then look inside — which classes it confuses, "
    "which images it gets wrong. Every page can also **load a pretrained model** at once.")

left, right = st.columns(2)
with left:
    st.subheader("This machine")
    st.write(f"**Device:** {describe()}")
    available, where = images_status()
    st.write(f"**Fashion-MNIST:** {where}")
    if not available:
        st.warning(HOW_TO_GET)
    st.write(f"**Training slots:** {manager().max_concurrent} job(s) at a time; "
             "more wait in a queue and show their place.")
with right:
    st.subheader("How to use a page")
    st.markdown(
        "1. Pick a **preset** (the tutorial's settings, or a better recommended one) and move the sliders.\n"
        "2. Press **Train**: it runs in the background — switch pages, it keeps going; **Stop** stops it.\n"
        "3. Watch the loss and accuracy live, beside the tutorial's own accuracy.\n"
        "4. At the end: confusion matrix, per-class accuracy and the images it got wrong.\n"
        "5. Every run is kept on the **Runs** page: reopen, resume or delete it.")

st.subheader("The map: from the perceptron to ResNet")
st.caption("The tutorial's timeline; ImageNet top-5 error rates as it quotes them.")
timeline = pd.DataFrame([
    ("1950s", "MLP (multi-layer perceptron)", "the prototype of today's deep networks", "—", "MLP (FNN)"),
    ("1998", "LeNet", "the first CNN; ideas used ever since", "—", "CNN"),
    ("2012", "AlexNet", "8 layers; restarted the deep-learning wave", "16.4%", "CNN"),
    ("2014", "VGG", "19 layers", "7.3%", "CNN"),
    ("2015", "ResNet", "152 layers; below the human error rate quoted then", "3.57%", "ResNet"),
], columns=["year", "model", "why it matters", "ImageNet top-5 error", "page here"])
st.dataframe(timeline, hide_index=True)
st.markdown(
    "**On this site now:** softmax regression, MLP, CNN and ResNet on Fashion-MNIST "
    "(60,000 training and 10,000 test images of clothing, 10 classes); the GAN, DCGAN, infoGAN "
    "and BEGAN, with a live health monitor that applies the tutorial's rules of thumb — is D "
    "winning outright (convergence failure)? is G drawing the same thing over and over (mode "
    "collapse)? — and offers its remedies; and **language models**: the n-gram (the Markov "
    "assumption) against RNN, GRU and LSTM on Tang poems, Chinese prose, English or your own "
    "text, with a poem writer and a sentence scorer (食油 or 石油?).")
