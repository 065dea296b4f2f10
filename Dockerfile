# DL Studio as a hosted demo: `docker build -t dlstudio . && docker run -p 8501:8501 dlstudio`
# CPU-only torch (a few hundred MB instead of the CUDA build's gigabytes); demo mode on.
FROM python:3.11-slim

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DLSTUDIO_DEMO=1 \
    DLSTUDIO_RUNS_DIR=/data/runs

# Offline data from Debian: Fashion-MNIST and the language-model corpora; curl for the health check.
RUN apt-get update && apt-get install -y --no-install-recommends dataset-fashion-mnist fortunes-zh fortunes sunpinyin-data curl && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install --extra-index-url ${TORCH_INDEX} -r requirements.txt

COPY app.py ./
COPY .streamlit .streamlit
COPY core core
COPY ui ui
COPY views views
COPY checkpoints checkpoints

RUN useradd --create-home dlstudio && mkdir -p /data/runs && chown dlstudio /data/runs
USER dlstudio
VOLUME /data/runs
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s CMD curl --fail http://localhost:8501/_stcore/health || exit 1
CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"]
