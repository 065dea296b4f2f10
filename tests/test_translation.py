"""Image-to-image translation (pix2pix, CycleGAN): the networks' shapes, the losses, the data, the
monitor's rules, bad input, the loop, the CLI and the pages, on tiny data."""
import io
import math

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest
from torch import nn

from core import checkpoints, images
from core.cli import main as cli
from core.config import ConfigError, from_dict
from core.data import translation as data_translation
from core.data.fashion_mnist import CLASS_NAMES
from core.models.translation import cyclegan, pix2pix
from core.models.translation.base import PatchGAN, linear_decay, receptive_field
from core.registry import MODELS
from core.training import Finished, Samples, Started, train
from core.translation_task import make_trainer
from tests.conftest import ROOT
from tests.pages import switch_to

CPU = torch.device("cpu")
TINY = {"pix2pix": {"generator_width": 4, "discriminator_width": 4, "depth": 3},
        "cyclegan": {"generator_width": 4, "discriminator_width": 4, "residual_blocks": 1}}


def tiny(name, **overrides):
    values = {"epochs": 1, "batch_size": 8, "log_every_steps": 2, "sample_every_steps": 3,
              "monitor_every_windows": 1, **TINY[name], **overrides}
    return MODELS[name], from_dict(MODELS[name].config_cls, values)


def test_both_models_are_registered_in_their_own_family():
    assert {MODELS[name].family for name in ("pix2pix", "cyclegan")} == {"translation"}


# The networks ----------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [2, 3, 4, 5])
def test_unet_skips_carry_the_input_size_through(depth):
    network = pix2pix.UNet(1, 1, width=4, depth=depth, dropout=0.5).eval()
    down_sizes, up_inputs = [], []
    for layer in network.down:
        layer.register_forward_hook(lambda m, i, o: down_sizes.append(tuple(o.shape)))
    for layer in network.up:
        layer.register_forward_hook(lambda m, i, o: up_inputs.append(tuple(i[0].shape)))
    images = torch.rand(3, 1, 32, 32) * 2 - 1
    output = network(images)
    assert output.shape == images.shape and output.abs().max() <= 1
    assert down_sizes[-1][-1] == 32 // 2 ** depth
    # Every up-layer but the first reads its input concatenated with the mirrored down-layer's
    # output: twice the channels, at that layer's size.
    for up, down in zip(up_inputs[1:], reversed(down_sizes[:-1])):
        assert up == (3, 2 * down[1], down[2], down[3])
    # The skips carry detail: a change in one corner of the input changes the output there.
    changed = images.clone()
    changed[..., :4, :4] = -changed[..., :4, :4]
    difference = (network(changed) - output).abs()
    assert difference[..., :4, :4].mean() > difference[..., -8:, -8:].mean()


@pytest.mark.parametrize("size, layers, cells", [(32, 1, 14), (28, 1, 12), (28, 2, 5),
                                                 (32, 3, 2)])
def test_patchgan_gives_one_score_per_patch(size, layers, cells):
    network = PatchGAN(2, width=4, layers=layers, norm="batch").eval()
    scores = network(torch.rand(2, 2, size, size))
    assert scores.shape == (2, 1, cells, cells)
    assert [receptive_field(n) for n in (1, 2, 3)] == [16, 34, 70]
    if layers == 1:   # a score sees only its patch: a pixel outside it changes nothing
        image = torch.rand(1, 2, size, size)
        changed = image.clone()
        changed[..., 0, 0] += 5.0
        moved = (network(changed) - network(image)).abs()[0, 0] > 1e-6
        # Cell m's 16 px window starts at pixel 2m − 5: only cells 0–2 in each direction
        # cover pixel (0, 0).
        covering = [m for m in range(cells) if 2 * m - 5 <= 0 < 2 * m - 5 + receptive_field(1)]
        assert covering == [0, 1, 2]
        expected = torch.zeros(cells, cells, dtype=torch.bool)
        expected[:3, :3] = True
        assert torch.equal(moved, expected)


def test_resnet_generator_keeps_28_px():
    network = cyclegan.ResnetGenerator(1, width=4, blocks=2)
    images = torch.rand(2, 1, 28, 28) * 2 - 1
    assert network(images).shape == images.shape


# Losses ----------------------------------------------------------------------------------------

def test_identity_and_cycle_losses_are_zero_for_identity_generators():
    spec, config = tiny("cyclegan")
    trainer = make_trainer(spec, config, CPU)
    trainer.generator = nn.ModuleDict({"ab": nn.Identity(), "ba": nn.Identity()})
    a, b = torch.rand(4, 1, 28, 28) * 2 - 1, torch.rand(4, 1, 28, 28) * 2 - 1
    terms = trainer.generator_terms(a, b)
    for name in ("cycle_a", "cycle_b", "identity_a", "identity_b"):
        assert float(terms[name]) == 0.0, name
    # A generator that changes images is charged: the same terms are no longer zero.
    trainer.generator = nn.ModuleDict({"ab": nn.Tanh(), "ba": nn.Tanh()})
    terms = trainer.generator_terms(a, b)
    assert all(float(terms[name]) > 0 for name in ("cycle_a", "identity_b"))


def test_least_squares_generator_term_is_the_papers():
    spec, config = tiny("cyclegan")
    trainer = make_trainer(spec, config, CPU)
    scores = torch.full((2, 1, 5, 5), 0.25)
    assert float(trainer.adversarial(scores)) == pytest.approx((0.25 - 1) ** 2)


def test_pix2pix_objective_is_cgan_plus_lambda_l1():
    spec, config = tiny("pix2pix", lambda_l1=100.0)
    trainer = make_trainer(spec, config, CPU)
    inputs, targets = torch.rand(8, 1, 28, 28) * 2 - 1, torch.rand(8, 1, 28, 28) * 2 - 1
    metrics = trainer.train_step(inputs, targets)
    assert float(metrics["loss/generator_total"]) == pytest.approx(
        float(metrics["loss/generator"]) + 100 * float(metrics["loss/l1"]), rel=1e-5)
    _, l1_only = tiny("pix2pix", adversarial=False)
    trainer = make_trainer(spec, l1_only, CPU)
    metrics = trainer.train_step(inputs, targets)
    assert float(metrics["loss/generator_total"]) == pytest.approx(
        100 * float(metrics["loss/l1"]), rel=1e-5)
    with pytest.raises(ConfigError, match="nothing to learn"):
        from_dict(spec.config_cls, {"adversarial": False, "lambda_l1": 0})


def test_linear_decay_keeps_then_decays_to_zero():
    assert linear_decay(0.2, 0.5) == 1.0 and linear_decay(0.5, 0.5) == 1.0
    assert linear_decay(0.75, 0.5) == pytest.approx(0.5)
    assert linear_decay(1.0, 0.5) == 0.0
    spec, config = tiny("cyclegan")
    trainer = make_trainer(spec, config, CPU)
    assert trainer.set_progress(0.9) == pytest.approx(2e-4 * 0.2)
    assert trainer.optimizer_d.param_groups[0]["lr"] == pytest.approx(2e-4 * 0.2)


def test_replay_buffer_fills_then_mixes_and_survives_the_checkpoint():
    buffer = cyclegan.ReplayBuffer(4, seed=0)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(buffer.push_and_draw(first), first)        # filling: shown as they are
    shown = buffer.push_and_draw(torch.full((64, 1, 1, 1), 9.0))
    assert (shown < 9).any() and (shown == 9).any()                # a mix of old and new
    assert sum(float(image) == 9 for image in buffer.images) >= 1
    restored = cyclegan.ReplayBuffer(4, seed=0)
    restored.load(buffer.state(), CPU)
    assert [float(i) for i in restored.images] == [float(i) for i in buffer.images]
    off = cyclegan.ReplayBuffer(0, seed=0)
    assert torch.equal(off.push_and_draw(first), first) and not off.images


# Data ------------------------------------------------------------------------------------------

def test_edges_are_a_binary_outline_and_thumbnails_are_blocks():
    square = torch.zeros(1, 1, 28, 28)
    square[..., 8:20, 8:20] = 0.8
    edges = data_translation.sobel_edges(square)
    assert set(edges.unique().tolist()) == {0.0, 1.0}
    assert edges[0, 0, 8, 14] == 1 and edges[0, 0, 14, 14] == 0 and edges[0, 0, 2, 2] == 0
    blocks = data_translation.thumbnails(torch.rand(2, 1, 28, 28))
    assert blocks.shape == (2, 1, 28, 28)
    assert torch.equal(blocks[..., :4, :4], blocks[..., :1, :1].expand(2, 1, 4, 4))


def test_pairs_keep_the_split_and_the_chosen_classes(tiny_data):
    pairs = data_translation.make_pairs(tiny_data, "edges", "shoes")
    shoes = [CLASS_NAMES.index(name) for name in data_translation.SHOE_CLASSES]
    assert set(pairs.train_labels.tolist()) == set(shoes) == set(pairs.test_labels.tolist())
    assert len(pairs.train_inputs) == int(torch.isin(tiny_data.train_labels,
                                                     torch.tensor(shoes)).sum())
    assert pairs.train_inputs.dtype == torch.uint8 and pairs.train_targets.shape[1:] == (1, 28, 28)


def test_domain_index_sets_are_disjoint_and_identical_domains_are_refused(tiny_data):
    labels = tiny_data.train_labels
    a, b = data_translation.domain_indices(labels, 7, 9)
    assert len(a) and len(b) and not set(a.tolist()) & set(b.tolist())
    assert (labels[a] == 7).all() and (labels[b] == 9).all()
    with pytest.raises(ValueError, match="same class"):
        data_translation.domain_indices(labels, 7, 7)
    with pytest.raises(ConfigError, match="both Sneaker"):
        from_dict(cyclegan.CycleGANConfig, {"domain_a": "Sneaker", "domain_b": "Sneaker"})
    domains = data_translation.make_domains(tiny_data, "Sneaker", "Ankle boot")
    assert len(domains.train_a) == int((labels == 7).sum())


# Bad input from the pages ----------------------------------------------------------------------

def test_drawings_and_uploads_are_read_or_refused_with_the_reason():
    canvas = np.zeros((280, 280, 4), dtype=np.uint8)
    with pytest.raises(ValueError, match="canvas is empty"):
        images.picture_from_drawing(canvas)
    with pytest.raises(ValueError, match="200×280 px"):
        images.picture_from_drawing(np.zeros((280, 200, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="at least 28"):
        images.picture_from_drawing(np.full((10, 10, 4), 255, dtype=np.uint8))
    canvas[100:180, 130:150] = 255
    drawn = images.picture_from_drawing(canvas)
    assert drawn.shape == (1, 1, 28, 28) and drawn[0, 0, 14, 14] > 0.9 and drawn[0, 0, 2, 2] == 0
    with pytest.raises(ValueError, match="notes.txt is not an image"):
        images.picture_from_upload(b"not an image at all", "notes.txt")
    photo = Image.new("L", (60, 40), 250)                # a dark shoe on white paper
    photo.paste(30, (10, 10, 50, 30))
    buffer = io.BytesIO()
    photo.save(buffer, format="PNG")
    picture, note = images.picture_from_upload(buffer.getvalue(), "shoe.png")
    assert picture.shape == (1, 1, 28, 28) and "inverted" in note and "square" in note
    assert picture[0, 0, 14, 14] > 0.8 and picture[0, 0, 1, 1] < 0.1


# The loop, checkpoints, the CLI ----------------------------------------------------------------

@pytest.mark.parametrize("name, rows", [("pix2pix", 3), ("cyclegan", 6)])
def test_training_yields_test_grids_figures_and_a_checkpoint_that_round_trips(name, rows,
                                                                              tiny_data, tmp_path):
    spec, config = tiny(name, epochs=2, train_subset=32)
    events = list(train(spec, config, tiny_data, checkpoint_dir=tmp_path, snapshot_every_steps=2))
    assert isinstance(events[0], Started) and isinstance(events[-1], Finished)
    grids = [e for e in events if isinstance(e, Samples)]
    assert grids and grids[-1].images.shape == (rows * 8, 1, 28, 28)
    assert grids[-1].images.dtype == torch.uint8
    final = events[-1].values
    assert all(math.isfinite(v) for v in final.values())
    windows = [e.values for e in events if getattr(e, "kind", "") == "window"]
    assert any("diversity/ratio" in values for values in windows)
    assert list((tmp_path / "snapshots").glob("*.pt"))
    payload = checkpoints.load(events[-1].path, expected_model=name)
    assert "preview" in payload["evaluation"] and payload["evaluation"]["figures"] == final
    first, second = (MODELS[name].restore(spec, config, payload, CPU) for _ in range(2))
    images = torch.rand(3, 1, 28, 28) * 2 - 1
    assert torch.equal(first.translate(images), second.translate(images))
    resumed = list(train(spec, config, tiny_data, resume=payload))
    assert isinstance(resumed[-1], Finished) and resumed[0].start_step == events[-1].step


def test_cli_evaluate_prints_the_figures(tiny_data, tmp_path, capsys):
    spec, config = tiny("pix2pix", train_subset=16)
    final = list(train(spec, config, tiny_data, checkpoint_dir=tmp_path))[-1]
    assert cli(["evaluate", final.path]) == 0
    printed = capsys.readouterr().out
    for name in ("quality/l1", "quality/class_accuracy", "quality/frechet_distance",
                 "quality/frechet_distance_inputs"):
        assert f"{name}=" in printed
    assert cli(["train", "cyclegan", "--domain_a", "Coat", "--domain_b", "Coat"]) == 2
    assert "both Coat" in capsys.readouterr().err


# The monitor's rules ---------------------------------------------------------------------------

def frame_of(steps=range(10, 610, 10), **columns) -> pd.DataFrame:
    rows = [[step, step / 100, name, make(step)] for step in steps
            for name, make in columns.items()]
    return pd.DataFrame(rows, columns=["step", "epoch", "name", "value"])


PIX2PIX_HEALTHY = {"loss/discriminator": lambda s: 0.9 + 0.05 * (s % 3),
                   "loss/generator": lambda s: 1.2, "d_accuracy/mean": lambda s: 0.85,
                   "match/own_vs_other": lambda s: 0.3, "diversity/ratio": lambda s: 0.95,
                   "test/l1": lambda s: 0.15}
CYCLE_HEALTHY = {"loss/discriminator": lambda s: 0.2 + 0.01 * (s % 3),
                 "loss/generator": lambda s: 0.4, "d_accuracy/mean": lambda s: 0.7,
                 "diversity/ratio": lambda s: 0.9, "cycle/ratio": lambda s: 0.15,
                 "cycle/error_a": lambda s: 0.06, "cycle/error_b": lambda s: 0.07,
                 "translation/accuracy_ab": lambda s: 0.9,
                 "translation/accuracy_ba": lambda s: 0.85}


def test_monitor_rules_for_cgan_plus_l1():
    health, config = MODELS["pix2pix"].health, {"lambda_l1": 100.0}
    assert health.diagnose(frame_of(range(10, 110, 10), **PIX2PIX_HEALTHY)).state == "warming up"
    assert health.diagnose(frame_of(**PIX2PIX_HEALTHY), config).state == "healthy"
    wins = health.diagnose(frame_of(**{**PIX2PIX_HEALTHY, "loss/discriminator": lambda s: 0.02,
                                       "d_accuracy/mean": lambda s: 0.995,
                                       "loss/generator": lambda s: 6.0}), config)
    assert wins.state == "convergence failure" and wins.remedies
    ignored = health.diagnose(frame_of(**{**PIX2PIX_HEALTHY, "match/own_vs_other":
                                          lambda s: 0.98}), {"lambda_l1": 0.0})
    assert ignored.state == "mode collapse" and "ignored" in " ".join(ignored.evidence)
    assert any(r.changes == {"lambda_l1": 100.0} for r in ignored.remedies)


def test_monitor_rules_for_cyclegan_flag_the_lambda_zero_failure():
    health = MODELS["cyclegan"].health
    steps = range(20, 1420, 20)
    assert health.diagnose(frame_of(steps, **CYCLE_HEALTHY), {}).state == "healthy"
    broken = health.diagnose(frame_of(steps, **{**CYCLE_HEALTHY, "cycle/ratio": lambda s: 0.9}),
                             {"lambda_cycle": 0.0})
    assert broken.state == "round trip broken"
    assert broken.remedies[0].changes == {"lambda_cycle": 10.0}
    stuck = health.diagnose(frame_of(steps, **{**CYCLE_HEALTHY,
                                               "translation/accuracy_ab": lambda s: 0.1}),
                            {"lambda_identity": 5.0})
    assert stuck.state == "not translating" and "A → B: 10%" in " ".join(stuck.evidence)
    assert any(r.changes == {"lambda_identity": 2.5} for r in stuck.remedies)


@pytest.mark.parametrize("name", ["pix2pix", "cyclegan"])
def test_every_remedy_is_a_valid_change_that_resumes_the_snapshot(name):
    spec, config = tiny(name, lambda_l1=0.0) if name == "pix2pix" else tiny(name,
                                                                            lambda_cycle=0.0)
    payload = make_trainer(spec, config, CPU).state()
    seen = 0
    for state in ("convergence failure", "mode collapse", "round trip broken", "not translating",
                  "oscillation"):
        for remedy in spec.health.remedies(state, dict(config.__dict__)):
            changed = from_dict(spec.config_cls, {**config.__dict__, **remedy.changes})
            assert not remedy.from_scratch
            make_trainer(spec, changed, CPU).load_state(payload)
            seen += 1
    assert seen >= 4


# The pages -------------------------------------------------------------------------------------

def open_page(page: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    switch_to(app, page)
    app.run()
    return app


@pytest.mark.parametrize("name, explorer", [("pix2pix", "Draw it yourself"),
                                            ("cyclegan", "Round trips")])
def test_a_page_trains_a_tiny_model_and_shows_the_finished_model(name, explorer):
    from core.jobs import manager
    app = open_page(name)
    assert not app.exception, [e.value for e in app.exception]
    assert any("CycleGAN" in c.value and "pix2pix" in c.value for c in app.caption)
    for field, value in {**TINY[name], "epochs": 1}.items():
        app.slider(key=f"{name}.field.{field}").set_value(value)
    app.run()
    next(b for b in app.button if b.label == "Train").click()
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    _, job_id = app.session_state[f"{name}.view"]
    job = manager().wait(manager().get(job_id), timeout=120)
    assert job.state == "finished", job.message
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(explorer in h.value for h in app.subheader)
    boxes = [box.value for box in [*app.success, *app.info, *app.warning, *app.error]]
    assert any("Health monitor" in box for box in boxes)
    first = app.number_input[0]
    first.set_value(1 if name == "pix2pix" else 8).run()
    assert not app.exception, [e.value for e in app.exception]


def test_the_cyclegan_form_refuses_two_identical_domains():
    app = open_page("cyclegan")
    app.selectbox(key="cyclegan.field.domain_b").set_value("Sneaker").run()
    assert any("both Sneaker" in e.value for e in app.error)
    assert next(b for b in app.button if b.label == "Train").disabled


@pytest.mark.parametrize("name", ["pix2pix", "cyclegan"])
def test_every_slider_at_both_extremes_renders(name):
    app = open_page(name)
    tried = 0
    for key in [w.key for w in app.slider if w.key and w.key.startswith(f"{name}.field.")]:
        for value in (app.slider(key=key).min, app.slider(key=key).max):
            app.slider(key=key).set_value(value).run()
            tried += 1
            assert not app.exception, (key, value, [e.value for e in app.exception])
    assert tried >= 8
