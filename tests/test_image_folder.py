import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from core.data import image_folder
from core.data.fashion_mnist import DataUnavailable


def png(colour, size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def zipped(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, raw in files.items():
            archive.writestr(name, raw)
    return buffer.getvalue()


def test_a_zip_of_colour_images_becomes_rgb_32px():
    files = {f"shoes/{i}.png": png((i * 10 % 255, 20, 200)) for i in range(30)}
    files["notes.txt"] = b"ignored"
    files["shoes/broken.png"] = b"not a png"
    data = image_folder.load_zip(zipped(files))
    assert data.train_images.shape[1:] == (3, 32, 32) and data.train_images.dtype.is_floating_point is False
    assert len(data.train_images) + len(data.test_images) == 30


def test_grey_images_stay_one_channel(tmp_path):
    for i in range(20):
        (tmp_path / f"{i}.png").write_bytes(png((i * 12, i * 12, i * 12)))
    data = image_folder.load_folder(tmp_path)
    assert data.image_shape == (1, 32, 32)


@pytest.mark.parametrize("raw, words", [
    (b"this is not a zip", "not a zip archive"),
    (zipped({"a.txt": b"hello"}), "holds no images"),
    (zipped({f"{i}.png": b"garbage" for i in range(40)}), "found 0 readable images"),
    (zipped({f"{i}.png": png((1, 2, 3)) for i in range(5)}), "at least 16"),
])
def test_odd_uploads_are_refused_with_a_message(raw, words):
    with pytest.raises(DataUnavailable, match=words):
        image_folder.load_zip(raw)


def test_missing_folder(tmp_path):
    with pytest.raises(DataUnavailable, match="not a folder"):
        image_folder.load_folder(tmp_path / "nope")
    with pytest.raises(DataUnavailable, match="no images"):
        image_folder.load_folder(tmp_path)


def test_a_gan_trains_on_user_images(tmp_path):
    from core.config import from_dict
    from core.registry import MODELS
    from core.training import Finished, train
    files = {f"{i}.png": png(tuple(int(v) for v in np.random.default_rng(i).integers(0, 255, 3)))
             for i in range(40)}
    data = image_folder.load_zip(zipped(files))
    spec = MODELS["dcgan"]
    config = from_dict(spec.config_cls, {"epochs": 1, "batch_size": 8, "generator_width": 4,
                                         "discriminator_width": 4, "log_every_steps": 2})
    events = list(train(spec, config, data))
    assert isinstance(events[-1], Finished)
    assert "classes/covered" not in events[-1].values  # no class judge for arbitrary images
