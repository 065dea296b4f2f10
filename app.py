"""DL Studio: learn deep learning by doing it. Run with `streamlit run app.py` (or `make run`)."""
import os
import time

import streamlit as st

from ui.state import limits, preload

st.set_page_config(page_title="DL Studio", page_icon=":material/science:", layout="wide")

pages = {
    "": [st.Page("views/home.py", title="Home", icon=":material/home:", default=True)],
    "Classifiers": [
        st.Page("views/softmax.py", title="Softmax regression", icon=":material/show_chart:", url_path="softmax"),
        st.Page("views/mlp.py", title="MLP (FNN)", icon=":material/hub:", url_path="mlp"),
        st.Page("views/cnn.py", title="CNN", icon=":material/grid_on:", url_path="cnn"),
        st.Page("views/resnet.py", title="ResNet", icon=":material/stacked_line_chart:", url_path="resnet"),
    ],
    "GANs": [
        st.Page("views/gan.py", title="GAN", icon=":material/auto_awesome:", url_path="gan"),
        st.Page("views/dcgan.py", title="DCGAN", icon=":material/blur_on:", url_path="dcgan"),
        st.Page("views/infogan.py", title="infoGAN", icon=":material/tune:", url_path="infogan"),
        st.Page("views/began.py", title="BEGAN", icon=":material/balance:", url_path="began"),
    ],
    "Language": [
        st.Page("views/lm.py", title="Language models", icon=":material/translate:",
                url_path="language-model"),
    ],
    "Workspace": [st.Page("views/workspace.py", title="Runs", icon=":material/folder_open:", url_path="runs")],
}
if os.environ.get("DLSTUDIO_DEMO") and limits().enabled:
    preload()
page = st.navigation(pages)
started = time.perf_counter()
try:
    page.run()
finally:
    if os.environ.get("DLSTUDIO_RENDER_LOG"):  # bench/load.py: server time of each page run
        with open(os.environ["DLSTUDIO_RENDER_LOG"], "a") as log:
            log.write(f"{time.time():.3f},{page.url_path or 'home'},"
                      f"{time.perf_counter() - started:.4f}\n")
