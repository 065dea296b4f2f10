"""DL Studio core: models, data, the training loop, jobs and runs. Never imports Streamlit."""
