import gzip
import struct

import numpy as np
import pytest

from core.data import fashion_mnist


def write_idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fresh_cache(monkeypatch):
    monkeypatch.setattr(fashion_mnist, "_cache", {})


def test_reads_idx_files_from_a_configured_root(tmp_path, monkeypatch, fresh_cache):
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 255, (12, 28, 28)))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.arange(12) % 10)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 255, (5, 28, 28)))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(5))
    monkeypatch.setenv("DLSTUDIO_DATA_ROOT", str(tmp_path))
    data = fashion_mnist.load()
    assert data.train_images.shape == (12, 1, 28, 28) and data.test_labels.tolist() == [0, 1, 2, 3, 4]
    assert data.source == str(tmp_path)


def test_missing_data_says_how_to_get_it(monkeypatch, tmp_path, fresh_cache):
    monkeypatch.setattr(fashion_mnist, "candidate_roots", lambda: [tmp_path])
    monkeypatch.setenv("DLSTUDIO_OFFLINE", "1")
    with pytest.raises(fashion_mnist.DataUnavailable) as error:
        fashion_mnist.load()
    assert "apt-get install dataset-fashion-mnist" in str(error.value)
    assert fashion_mnist.status()[0] is False


def test_truncated_idx_file_is_reported(tmp_path):
    path = tmp_path / "x.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(struct.pack(">BBBB", 0, 0, 8, 1) + struct.pack(">I", 100) + b"\0" * 10)
    with pytest.raises(fashion_mnist.DataUnavailable, match="truncated"):
        fashion_mnist._read_idx(path)
