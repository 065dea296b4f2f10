# DL Studio as a hosted demo: `docker build -t dlstudio . && docker run -p 8501:8501 dlstudio`
# CPU-only torch by construction (its +cpu wheels from the CPU index; the build fails if a CUDA
# build of torch got in); demo mode on; the Debian release the tests run on.
FROM python:3.11-slim-bookworm

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DLSTUDIO_DEMO=1 \
    DLSTUDIO_RUNS_DIR=/data/runs \
    STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=none

# Offline data from Debian: Fashion-MNIST and the language-model corpora; the font run cards are
# drawn with; curl for the health check.
RUN apt-get update && apt-get install -y --no-install-recommends dataset-fashion-mnist fortunes-zh fortunes sunpinyin-data fonts-dejavu-core curl && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
# torch and torchvision first, as their CPU builds (the versions requirements.txt pins), then the
# rest without them, so nothing can pull PyPI's CUDA build in.
RUN pip install --index-url ${TORCH_INDEX} torch==2.14.1+cpu torchvision==0.29.1+cpu
RUN grep -v -E '^(torch|torchvision)==' requirements.txt > /tmp/requirements-rest.txt && pip install -r /tmp/requirements-rest.txt
RUN python -c "import sys, torch; sys.exit('a CUDA build of torch is in the image: ' + torch.version.cuda if torch.version.cuda else 0)"

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
