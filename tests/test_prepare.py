"""`core.cli prepare` fills the cache under the very names the pages ask for, so the first click
on *Nearest training images* or *Where the classes live* finds its result on disk."""
import numpy as np
import torch

from core import checkpoints, gan_eval, inside, prepare
from core.data import images_status, load_images
from core.paths import shipped_checkpoint
from core.registry import CLASSIFIERS, load_model
import pytest

pytestmark = pytest.mark.skipif(not images_status()[0], reason="needs Fashion-MNIST")


def test_prepare_writes_what_the_pages_read_and_only_once(monkeypatch):
    calls = []

    def fake(kind):        # the t-SNE and the 60,000-image bank are measured elsewhere; here: names
        def compute(*args, **kwargs):
            calls.append(kind)
            return {"positions": np.zeros((2, 2), np.float32), "kind": np.array(kind)}
        return compute
    monkeypatch.setattr(inside, "training_bank", fake("bank"))
    monkeypatch.setattr(inside, "pixel_map", fake("pixels"))
    monkeypatch.setattr(inside, "class_map", fake("map"))
    computed = prepare.prepare(say=lambda line: None)
    shipped = [name for name in CLASSIFIERS if shipped_checkpoint(name).exists()]
    assert calls.count("map") == len(shipped) and calls.count("pixels") == 1
    assert len(computed) == len(calls)

    # The names the pages ask for, made as ui/inside_views makes them (classifier_for: the model
    # on the CPU, its fingerprint; class_map_view; nearest_view).
    data = load_images()
    count = min(inside.MAP_IMAGES, len(data.test_images))
    for name in shipped:
        payload = checkpoints.load(str(shipped_checkpoint(name)))
        model_print = inside.model_fingerprint(load_model(payload, torch.device("cpu")))
        assert inside.load_cached(inside.class_map_name(model_print, data, count)) is not None
    assert inside.load_cached(inside.pixel_map_name(data, count)) is not None
    if gan_eval.shipped_judge() is not None:
        assert inside.load_cached(inside.bank_name(gan_eval.CLASSIFIER, data)) is not None

    # A second call computes nothing.
    calls.clear()
    assert prepare.prepare(say=lambda line: None) == [] and calls == []
