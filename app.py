"""DL Studio: learn deep learning by doing it. Run with `streamlit run app.py` (or `make run`)."""
import os
import time

import streamlit as st

from ui import language
from ui.pages import navigation
from ui.state import keep_identity, limits, preload, warm_imports

st.set_page_config(page_title="DL Studio", page_icon=":material/science:", layout="wide")

language.choose()        # English or 中文, before anything is drawn (ui/language.py)
pages = navigation()     # every page: the files in views/ and one per model's spec
if os.environ.get("DLSTUDIO_DEMO") and limits().enabled:
    # A visitor of a hosted demo never sees a traceback (the server's log keeps it).
    st.set_option("client.showErrorDetails", "none")
    preload()
page = st.navigation(pages)
keep_identity()     # demo mode: the visitor's signed cookie (never the URL)
warm_imports()      # torchvision, once per server, before a learner's first click
language.switch()   # the sidebar's Language / 语言 box
started = time.perf_counter()
try:
    page.run()
finally:
    if os.environ.get("DLSTUDIO_RENDER_LOG"):  # bench/load.py: server time of each page run
        with open(os.environ["DLSTUDIO_RENDER_LOG"], "a") as log:
            log.write(f"{time.time():.3f},{page.url_path or 'home'},"
                      f"{time.perf_counter() - started:.4f}\n")
