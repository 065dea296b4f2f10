"""Tests run on tiny generated data, in a temporary runs folder, on few threads."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DLSTUDIO_DATASET", "synthetic")
os.environ.setdefault("DLSTUDIO_THREADS", "2")

# oneDNN's CPU kernels hang or abort in a ResNet's backward pass on some CPUs (seen on this
# project's 2-core AMD EPYC machine: test_training's checkpoint round trip hung in
# _engine_run_backward with 1 or 2 threads; with oneDNN off it passes). The tests check behaviour,
# not speed: they use PyTorch's own kernels.
import torch  # noqa: E402

torch.backends.mkldnn.enabled = False


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    folder = tmp_path / "runs"
    monkeypatch.setenv("DLSTUDIO_RUNS_DIR", str(folder))
    return folder


@pytest.fixture
def tiny_data():
    from core.data import synthetic
    return synthetic.make(train_count=120, test_count=60)


def tiny_config(spec, **overrides):
    """The smallest config of a model that still exercises every layer."""
    from core.config import from_dict
    values = {"epochs": 1, "batch_size": 16, "log_every_steps": 1}
    if spec.name == "mlp":
        values["hidden_size"] = 16
    if spec.name == "cnn":
        values.update(conv1_channels=4, conv2_channels=8)
    if spec.name == "resnet":
        values.update(blocks_per_stage=1, base_width=4)
    values.update(overrides)
    return from_dict(spec.config_cls, values)
