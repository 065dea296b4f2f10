import math

import pytest
import torch

from core.classification import augment, lr_factor
from core.config import from_dict
from core.registry import CLASSIFIERS, MODELS
from core.classification import build_trainer
from core.data import prepare
from tests.conftest import tiny_config


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_one_step_gives_finite_metrics_and_right_shapes(name, tiny_data):
    spec = MODELS[name]
    config = tiny_config(spec)
    trainer = build_trainer(spec, config, tiny_data)
    train_x, train_y, test_x, _ = prepare(tiny_data, trainer.device)
    before = [p.detach().clone() for p in trainer.network.parameters()]
    loss, correct = trainer.train_step(train_x[:16], train_y[:16])
    assert math.isfinite(loss.item()) and 0 <= correct.item() <= 16
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.network.parameters()))
    logits = trainer.predict(test_x[:7])
    assert logits.shape == (7, 10)


@pytest.mark.parametrize("name", list(MODELS))
def test_presets_are_valid_configs(name):
    spec = MODELS[name]
    for values in spec.presets.values():
        config = from_dict(spec.config_cls, values)   # raises ConfigError when one is not
        assert all(getattr(config, field) == value for field, value in values.items())


def test_resnet_depth_follows_6n_plus_2():
    spec = MODELS["resnet"]
    network = spec.build_network(tiny_config(spec, blocks_per_stage=3))
    convs = [m for m in network.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(convs) + 1 == 20  # 19 3x3 convs + the fc layer: ResNet-20


def test_augment_keeps_shape_and_pixels():
    images = torch.rand(8, 1, 28, 28)
    out = augment(images, torch.Generator().manual_seed(0))
    assert out.shape == images.shape
    assert out.max() <= images.max() and out.min() >= 0
    assert not torch.equal(out, images)


def test_lr_schedules():
    assert lr_factor("constant", 0.7) == 1.0
    assert lr_factor("cosine", 0.0) == pytest.approx(1.0)
    assert lr_factor("cosine", 1.0) == pytest.approx(0.0)
    assert lr_factor("onecycle", 0.0) < 0.1 and lr_factor("onecycle", 0.25) == pytest.approx(1.0, abs=1e-2)
    assert lr_factor("onecycle", 1.0) < 0.01
