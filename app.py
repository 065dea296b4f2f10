"""DL Studio: learn deep learning by doing it. Run with `streamlit run app.py` (or `make run`)."""
import streamlit as st

st.set_page_config(page_title="DL Studio", page_icon=":material/science:", layout="wide")

pages = {
    "": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Classifiers": [
        st.Page("pages/softmax.py", title="Softmax regression", icon=":material/show_chart:", url_path="softmax"),
        st.Page("pages/mlp.py", title="MLP (FNN)", icon=":material/hub:", url_path="mlp"),
        st.Page("pages/cnn.py", title="CNN", icon=":material/grid_on:", url_path="cnn"),
        st.Page("pages/resnet.py", title="ResNet", icon=":material/stacked_line_chart:", url_path="resnet"),
    ],
    "GANs": [
        st.Page("pages/gan.py", title="GAN", icon=":material/auto_awesome:", url_path="gan"),
        st.Page("pages/dcgan.py", title="DCGAN", icon=":material/blur_on:", url_path="dcgan"),
    ],
    "Workspace": [st.Page("pages/workspace.py", title="Runs", icon=":material/folder_open:", url_path="runs")],
}
st.navigation(pages).run()
