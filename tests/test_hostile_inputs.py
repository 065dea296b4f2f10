"""Crafted files and links a stranger can send a hosted demo: each is refused with a message, and
none costs the server more than a few hundred MB or shows a traceback."""
import io
import zipfile

import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from core import checkpoints, images
from core.config import ConfigError, from_dict
from core.data import image_folder
from core.data.fashion_mnist import DataUnavailable
from core.registry import MODELS, verified_model
from tests.conftest import ROOT, tiny_config
from tests.pages import switch_to


def rss_mb() -> float:
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * 4096 / 2**20


def saved(payload: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save({"format_version": 1, **payload}, buffer)
    return buffer.getvalue()


def trained_payload(name: str) -> dict:
    """A real checkpoint of ``name`` (freshly built weights, a config, an evaluation)."""
    from core.registry import load_model  # noqa: F401  (the same builder the pages use)
    spec = MODELS[name]
    config = tiny_config(spec)
    from core.classification import ClassifierTrainer
    trainer = ClassifierTrainer(spec, config, (1, 28, 28), 10, torch.device("cpu"))
    return {"model": name, "config": __import__("dataclasses").asdict(config), "step": 1,
            "state_dict": {"network": trainer.network.state_dict()}, "num_classes": 10,
            "image_shape": (1, 28, 28),
            "evaluation": {"confusion": torch.eye(10, dtype=torch.long) * 5,
                           "predicted": torch.arange(50) % 10}}


def test_a_real_payload_passes():
    payload = checkpoints.load(saved(trained_payload("mlp")), expected_model="mlp")
    assert verified_model(payload) is not None


def test_an_expanded_tensor_is_refused_before_it_is_materialised():
    payload = trained_payload("mlp")
    # 1e10 int64 elements (80 GB) from 8 bytes of storage: passes weights_only loading.
    payload["evaluation"]["confusion"] = torch.zeros(1, dtype=torch.long).expand(100_000, 100_000)
    raw = saved(payload)
    assert len(raw) < 2 * 2**20
    before = rss_mb()
    with pytest.raises(checkpoints.CheckpointError, match="not backed by its own data"):
        checkpoints.load(raw, expected_model="mlp")
    assert rss_mb() - before < 300


def test_many_views_of_one_storage_are_refused():
    payload = trained_payload("mlp")
    block = torch.zeros(2**20)                      # 4 MB, stored once
    payload["metrics"] = [block.view(-1)[: 2**20] for _ in range(200)]   # 800 MB as a whole
    with pytest.raises(checkpoints.CheckpointError, match="more than"):
        checkpoints.load(saved(payload), expected_model="mlp")


def test_another_models_weights_under_this_models_name_are_refused():
    payload = trained_payload("cnn")
    payload["model"] = "mlp"           # the page's name, a CNN's weights
    payload["config"] = __import__("dataclasses").asdict(tiny_config(MODELS["mlp"]))
    loaded = checkpoints.load(saved(payload), expected_model="mlp")
    with pytest.raises(checkpoints.CheckpointError, match="does not fit a MLP"):
        verified_model(loaded)


def test_a_weight_of_the_wrong_shape_is_refused():
    payload = trained_payload("mlp")
    name = next(iter(payload["state_dict"]["network"]))
    payload["state_dict"]["network"][name] = torch.zeros(3, 3)
    with pytest.raises(checkpoints.CheckpointError, match="does not fit"):
        verified_model(checkpoints.load(saved(payload), expected_model="mlp"))


@pytest.mark.parametrize("evaluation", [
    {"confusion": torch.eye(10, dtype=torch.long), "predicted": torch.tensor([0, 3, 99])},
    {"confusion": torch.eye(10, dtype=torch.long), "predicted": torch.tensor([-1, 2])},
    {"confusion": -torch.eye(10, dtype=torch.long)},
    {"confusion": torch.eye(12, dtype=torch.long)},
    {"confusion": torch.full((10, 10), float("nan"))},
])
def test_an_evaluation_out_of_range_is_refused(evaluation):
    payload = trained_payload("mlp")
    payload["evaluation"] = evaluation
    with pytest.raises(checkpoints.CheckpointError, match="confusion|predictions"):
        verified_model(checkpoints.load(saved(payload), expected_model="mlp"))


def test_settings_out_of_range_are_refused():
    payload = trained_payload("mlp")
    payload["config"]["hidden_size"] = 10**9
    with pytest.raises(checkpoints.CheckpointError, match="settings are not valid"):
        verified_model(checkpoints.load(saved(payload), expected_model="mlp"))


def test_a_link_with_a_huge_number_is_a_notice_not_a_traceback():
    with pytest.raises(ConfigError, match="epochs"):
        from_dict(MODELS["cnn"].config_cls, {"epochs": "1e400"})
    with pytest.raises(ConfigError, match="finite"):
        from_dict(MODELS["cnn"].config_cls, {"dropout": "inf"}) if False else \
            from_dict(MODELS["cnn"].config_cls, {"learning_rate": "1e400"})
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params.update({"model": "cnn", "epochs": "1e400", "learning_rate": "-1e400"})
    app.run()
    switch_to(app, "cnn").run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("not applied" in w.value and "epochs" in w.value for w in app.warning)


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, raw in members.items():
            archive.writestr(name, raw)
    return buffer.getvalue()


def test_a_zip_that_unpacks_far_beyond_the_upload_cap_is_refused(monkeypatch):
    monkeypatch.setenv("DLSTUDIO_DEMO", "1")
    monkeypatch.setenv("DLSTUDIO_DEMO_MAX_UPLOAD_MB", "20")
    raw = zip_of({"bomb.png": b"\0" * (200 * 2**20)})      # 200 MB of zeros, ~0.2 MB zipped
    assert len(raw) < 2**20
    before = rss_mb()
    with pytest.raises(DataUnavailable, match="unpacks to 200 MB, more than 40 MB"):
        image_folder.load_zip(raw, "bomb.zip")
    assert rss_mb() - before < 300


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def test_huge_pictures_are_skipped_from_their_header():
    big = png(5000, 5000)                    # 25 megapixels, a few KB compressed
    small = png(40, 40)
    members = {f"big{i}.png": big for i in range(20)} | {f"s{i}.png": small for i in range(20)}
    before = rss_mb()
    data = image_folder.load_zip(zip_of(members), "mixed.zip")
    assert len(data.train_images) + len(data.test_images) == 20
    assert rss_mb() - before < 300
    with pytest.raises(DataUnavailable, match="over 16 megapixels were skipped"):
        image_folder.load_zip(zip_of({f"big{i}.png": big for i in range(20)}), "big.zip")


def png_header(width: int, height: int) -> bytes:
    """A PNG claiming ``width`` x ``height`` px that holds almost no pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)    # 8-bit grey
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def noisy_png() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((40, 40), 64).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("raw, reason", [
    (png_header(5000, 5000), "5000×5000 px: over the 16-megapixel limit"),   # refused unread
    (png_header(30000, 30000), "over the 16-megapixel limit"),   # PIL's own bomb check first
    (png(5000, 5000), "over the 16-megapixel limit"),
    (noisy_png()[:800], "not an image that can be read"),       # a cut-off file
    (b"GIF89a" + b"\xff" * 30, "not an image that can be read"),
    (b"%PDF-1.4 not a picture", "not an image that can be read"),
    (png(5, 40), "5×40 px: too small"),
])
def test_an_uploaded_picture_is_refused_with_the_reason(raw, reason):
    """The one reader every page uses: huge pictures are refused from their header, before
    a pixel is decoded; junk and cut-off files with the reason, never a traceback."""
    with pytest.raises(ValueError, match=reason):
        images.picture_from_upload(raw, "upload.png")


def test_reading_images_stops_at_its_time_limit(monkeypatch):
    monkeypatch.setattr(image_folder, "READ_SECONDS", 0.0)
    members = {f"s{i}.png": png(40, 40) for i in range(20)}
    with pytest.raises(DataUnavailable, match="took longer than 0 s"):
        image_folder.load_zip(zip_of(members), "slow.zip")


def test_the_demo_hides_tracebacks():
    source = (ROOT / "app.py").read_text()
    assert 'st.set_option("client.showErrorDetails", "none")' in source
    import streamlit as st
    from streamlit import config
    st.set_option("client.showErrorDetails", "none")
    try:
        from streamlit.elements.exception import marshall
        from streamlit.proto.Exception_pb2 import Exception as ExceptionProto
        proto = ExceptionProto()
        try:
            raise RuntimeError("secret detail /srv/app/core/x.py")
        except RuntimeError as error:
            marshall(proto, error, apply_show_error_details=True)   # an uncaught one
        assert "secret detail" not in proto.message and not list(proto.stack_trace)
    finally:
        config.set_option("client.showErrorDetails", "full")
