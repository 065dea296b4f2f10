"""SAGAN and BigGAN: attention, conditional batch norm, the projection D, truncation, orthogonal
regularisation, the hinge monitor, bad input, and both pages with the attention viewer."""
import dataclasses
import io
import math

import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core import checkpoints
from core.config import ConfigError, from_dict
from core.gan_task import evaluate, make_trainer
from core.models.gans import biggan, conditional, sagan
from core.models.gans.conditional import (ConditionalBatchNorm2d, SelfAttention, check_labels,
                                          class_conditional_quality, truncated_normal)
from core.models.gans.hinge_health import HingeHealth
from core.registry import GANS, MODELS
from core.training import Finished, train
from tests.conftest import ROOT
from tests.pages import switch_to

CPU = torch.device("cpu")
SMALL = {"sagan": {"generator_width": 4, "discriminator_width": 8},
         "biggan": {"generator_width": 4, "discriminator_width": 8, "shared_embedding_dim": 8}}


def tiny(name, **overrides):
    values = {"epochs": 1, "batch_size": 16, "log_every_steps": 2, "sample_every_steps": 3,
              "monitor_every_windows": 2, "latent_dim": 16, **SMALL[name], **overrides}
    return MODELS[name], from_dict(MODELS[name].config_cls, values)


def real_batch(count=16):
    return torch.rand(count, 1, 32, 32) * 2 - 1, torch.arange(count) % 10


def test_both_are_registered_gans_with_pages():
    from ui.navigation import ALL
    assert {"sagan", "biggan"} <= set(GANS)
    assert {"sagan", "biggan"} <= {entry.model for entry in ALL}


# The attention block -----------------------------------------------------------------------------

def test_attention_rows_sum_to_one_and_gamma_zero_is_the_identity():
    torch.manual_seed(0)
    block = SelfAttention(16, reduction=4, heads=2)
    x = torch.randn(3, 16, 16, 16)
    maps = block.attention(x)
    assert maps.shape == (3, 2, 256, 64)              # 16×16 queries, 8×8 pooled key cells
    assert torch.allclose(maps.sum(-1), torch.ones(3, 2, 256), atol=1e-5)
    assert (maps >= 0).all()
    assert float(block.gamma.detach()) == 0.0 and torch.equal(block(x), x)   # γ starts at 0: identity
    with torch.no_grad():
        block.gamma.fill_(0.5)
    assert not torch.allclose(block(x), x)
    with torch.no_grad():
        block.gamma.zero_()
    assert torch.equal(block(x), x)


def test_attention_mixes_far_away_positions():
    """A query position's output depends on a pixel far from it (a 1×1 conv could not)."""
    torch.manual_seed(1)
    block = SelfAttention(8, reduction=2)
    with torch.no_grad():
        block.gamma.fill_(1.0)
    x = torch.randn(1, 8, 16, 16)
    moved = x.clone()
    moved[0, :, 15, 15] += 5.0                         # change one far corner
    with torch.no_grad():
        difference = (block(moved) - block(x))[0, :, 0, 0].abs().sum()
    assert float(difference) > 1e-4


def test_channels_the_attention_block_cannot_take_are_refused_with_the_reason():
    with pytest.raises(ConfigError, match=r"divisible by attention_reduction × attention_heads = "
                                          r"8 × 1 = 8"):
        from_dict(sagan.SAGANConfig, {"discriminator_width": 12})
    with pytest.raises(ConfigError, match="generator_width = 6"):
        from_dict(sagan.SAGANConfig, {"generator_width": 6, "attention_reduction": 8})
    from_dict(sagan.SAGANConfig, {"discriminator_width": 12, "attention_reduction": 4})
    from_dict(sagan.SAGANConfig, {"discriminator_width": 12, "self_attention": False})
    with pytest.raises(ConfigError, match="heads"):
        from_dict(biggan.BigGANConfig, {"discriminator_width": 16, "attention_heads": 4})
    with pytest.raises(ConfigError, match="not divisible by 4"):
        from_dict(biggan.BigGANConfig, {"latent_dim": 30})
    from_dict(biggan.BigGANConfig, {"latent_dim": 30, "hierarchical_latent": False})


# Conditioning ------------------------------------------------------------------------------------

def test_conditional_batch_norm_differs_per_class():
    torch.manual_seed(0)
    norm = ConditionalBatchNorm2d(6, 10)
    x = torch.randn(4, 6, 5, 5)
    one_hot = lambda label: torch.nn.functional.one_hot(torch.full((4,), label), 10).float()
    a, b = norm(x, one_hot(2)), norm(x, one_hot(7))
    assert not torch.allclose(a, b)
    assert torch.allclose(norm(x, one_hot(2)), a)            # the same class: the same output
    halfway = norm(x, (one_hot(2) + one_hot(7)) / 2)          # a soft class mixes the two
    assert torch.allclose(halfway, (a + b) / 2, atol=1e-5)


@pytest.mark.parametrize("name", ["sagan", "biggan"])
def test_the_class_changes_what_g_draws_and_what_d_scores(name):
    spec, config = tiny(name)
    trainer = make_trainer(spec, config, (1, 32, 32), CPU)
    z = torch.randn(4, config.latent_dim)
    shoes = trainer.draw(torch.full((4,), 7), z=z)
    tops = trainer.draw(torch.full((4,), 0), z=z)
    assert not torch.allclose(shoes, tops)
    images = shoes.detach()
    classes = trainer.class_vectors(torch.full((4,), 7))
    other = trainer.class_vectors(torch.full((4,), 0))
    assert not torch.allclose(trainer.discriminator(images, classes),
                              trainer.discriminator(images, other))


def test_noise_is_z_and_a_uniform_one_hot_class():
    spec, config = tiny("sagan")
    trainer = make_trainer(spec, config, (1, 32, 32), CPU)
    latent = trainer.noise(50_000, torch.Generator().manual_seed(0))
    z, classes = trainer.split(latent)
    assert z.shape == (50_000, config.latent_dim) and classes.shape == (50_000, 10)
    assert torch.equal(classes.sum(1), torch.ones(50_000))
    counts = torch.bincount(classes.argmax(1), minlength=10).double()
    assert float(((counts - 5_000) ** 2 / 5_000).sum()) < 27.9    # chi-square, p = 0.001
    assert abs(float(z.mean())) < 0.01 and abs(float(z.std()) - 1) < 0.01
    unconditional = make_trainer(spec, dataclasses.replace(config, conditional=False),
                                 (1, 32, 32), CPU)
    assert unconditional.noise(3).shape == (3, config.latent_dim)


def test_a_class_out_of_range_is_refused_with_a_message():
    spec, config = tiny("biggan")
    trainer = make_trainer(spec, config, (1, 32, 32), CPU)
    with pytest.raises(ConfigError, match="class 10 is out of range: this model knows classes "
                                          "0 … 9"):
        trainer.latent_for(torch.randn(2, config.latent_dim), torch.tensor([3, 10]))
    with pytest.raises(ConfigError, match="class -1 is out of range"):
        check_labels(torch.tensor([-1, 2]), 10)
    # Training data with more classes than the model knows: refused at the first step.
    spec, narrow = tiny("sagan", classes=5)
    trainer = make_trainer(spec, narrow, (1, 32, 32), CPU)
    images, labels = real_batch()
    with pytest.raises(ConfigError, match="class 9 is out of range"):
        trainer.train_step(images, labels)


# Truncation --------------------------------------------------------------------------------------

@pytest.mark.parametrize("psi", [0.05, 0.25, 0.5, 1.0, 1.5])
def test_truncation_never_returns_values_above_the_threshold(psi):
    z = truncated_normal(2_000, 64, psi, torch.Generator().manual_seed(0))
    assert z.shape == (2_000, 64) and float(z.abs().max()) <= psi
    assert float(z.abs().mean()) > psi / 3          # still spread inside [-ψ, ψ], not clamped
    assert (z.abs() == psi).sum() == 0


def test_truncation_threshold_must_be_positive():
    for psi in (0.0, -0.5):
        with pytest.raises(ConfigError, match="ψ must be > 0"):
            truncated_normal(4, 8, psi)
    untruncated = truncated_normal(20_000, 8, None, torch.Generator().manual_seed(0))
    assert float(untruncated.abs().max()) > 3


# One step, the loop, checkpoints -------------------------------------------------------------------

@pytest.mark.parametrize("name", ["sagan", "biggan"])
def test_one_training_step_is_finite(name):
    spec, config = tiny(name)
    trainer = make_trainer(spec, config, (1, 32, 32), CPU)
    before = [p.detach().clone() for p in trainer.generator.parameters()]
    metrics = trainer.train_step(*real_batch())
    assert {"loss/discriminator", "loss/generator", "loss/d_real", "loss/d_fake", "d_score/real",
            "d_accuracy/mean", "grad_norm/generator"} <= set(metrics)
    assert all(math.isfinite(float(value)) for value in metrics.values())
    # The hinge D loss is its two terms' sum; G's is −mean D(G(z), y).
    assert float(metrics["loss/discriminator"]) == pytest.approx(
        float(metrics["loss/d_real"] + metrics["loss/d_fake"]), rel=1e-5)
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.generator.parameters()))
    if name == "sagan":
        assert {"sagan/gamma_g", "sagan/gamma_d"} <= set(metrics)
    images = trainer.generate(trainer.noise(5))
    assert images.shape == (5, 1, 32, 32) and images.abs().max() <= 1


def test_discriminator_steps_take_that_many_d_updates():
    spec, config = tiny("biggan", discriminator_steps=3)
    trainer = make_trainer(spec, config, (1, 32, 32), CPU)
    trainer.train_step(*real_batch())
    state = trainer.optimizer_d.state_dict()["state"]
    assert all(int(entry["step"]) == 3 for entry in state.values())
    assert all(int(entry["step"]) == 1 for entry in trainer.optimizer_g.state_dict()["state"]
               .values())


def test_orthogonal_regularisation_adds_the_gradient_of_its_penalty():
    torch.manual_seed(0)
    layer = torch.nn.Conv2d(3, 5, 3)
    weight = layer.weight
    matrix = weight.view(5, -1)
    penalty = 1e-2 / 2 * ((matrix @ matrix.T) * (1 - torch.eye(5))).pow(2).sum()
    expected, = torch.autograd.grad(penalty, weight)
    weight.grad = torch.zeros_like(weight)
    biggan.orthogonal_gradient(layer, 1e-2)
    assert torch.allclose(weight.grad, expected, atol=1e-6)
    # The shared class embedding is left out (as in the paper's code).
    spec, config = tiny("biggan")
    trainer = make_trainer(spec, config, (1, 32, 32), CPU)
    for parameter in trainer.generator.parameters():
        parameter.grad = torch.zeros_like(parameter)
    trainer.before_generator_step()
    assert torch.count_nonzero(trainer.generator.shared.weight.grad) == 0
    assert any(torch.count_nonzero(p.grad) for p in trainer.generator.parameters() if p.dim() > 1)


@pytest.mark.parametrize("name", ["sagan", "biggan"])
def test_training_through_the_loop_round_trips_and_evaluates(name, tiny_data, tmp_path):
    spec, config = tiny(name, epochs=2, generator_ema=0.99)
    events = list(train(spec, config, tiny_data, checkpoint_dir=tmp_path))
    assert isinstance(events[-1], Finished)
    assert "classes/intended_accuracy" in events[-1].values      # the monitor's own figure
    payload = checkpoints.load(events[-1].path, expected_model=name)
    first = make_trainer(spec, config, (1, 32, 32), CPU)
    first.load_state(payload)
    second = make_trainer(spec, config, (1, 32, 32), CPU)
    second.load_state(payload)
    z = first.noise(4)
    assert torch.equal(first.generate(z), second.generate(z))
    other = "biggan" if name == "sagan" else "sagan"
    with pytest.raises(checkpoints.CheckpointError):       # another model's checkpoint: refused
        checkpoints.load(events[-1].path, expected_model=other)
    values = evaluate(first, tiny_data, count=200)
    assert 0 <= values["conditional/intended_accuracy"] <= 1
    assert values["conditional/class_diversity"] > 0
    if name == "biggan":
        psis = {key.split("_")[1] for key in values if key.startswith("truncation/")}
        assert psis == {f"{psi:g}" for psi in conditional.TRUNCATION_VALUES}


def test_truncation_lowers_diversity_within_a_class(tiny_data):
    """The curve's measures move as the trick says, even on an untrained G: a smaller ψ draws
    z closer to 0, so the images of a class spread less."""
    from core.gan_eval import judge_for
    spec, config = tiny("biggan")
    trainer = make_trainer(spec, config, (1, 32, 32), CPU)
    judge = judge_for(tiny_data)
    narrow = class_conditional_quality(trainer, judge, tiny_data, per_class=20, truncation=0.25)
    wide = class_conditional_quality(trainer, judge, tiny_data, per_class=20, truncation=1.5)
    assert narrow["class_diversity"] < wide["class_diversity"]
    assert 0 <= narrow["intended_accuracy"] <= 1 and narrow["frechet_distance"] >= 0


def test_class_interpolation_ends_at_the_two_classes_and_the_grid_has_a_row_per_class():
    spec, config = tiny("biggan")
    trainer = make_trainer(spec, config, (1, 32, 32), CPU)
    z = torch.randn(2, config.latent_dim)
    path = trainer.class_interpolation(0, 3, z, steps=5)
    assert path.shape == (10, 1, 32, 32)
    assert torch.allclose(path[0], trainer.draw(torch.tensor([0]), z=z[:1])[0], atol=1e-5)
    assert torch.allclose(path[4], trainer.draw(torch.tensor([3]), z=z[:1])[0], atol=1e-5)
    grid = trainer.class_grid([0, 1, 2])
    assert grid.shape == (30, 1, 32, 32)
    assert torch.allclose(grid[3], trainer.draw(torch.tensor([1]), z=trainer.sample_z(
        1, torch.Generator().manual_seed(0)))[0], atol=1e-5)


def test_attention_maps_for_the_viewer():
    spec, config = tiny("sagan", attention_heads=2, attention_reduction=2)
    trainer = make_trainer(spec, config, (1, 32, 32), CPU)
    layers = trainer.attention_maps(trainer.noise(1))
    assert [layer["network"] for layer in layers] == ["G", "D"]
    for layer in layers:
        assert layer["maps"].shape == (2, 256, 64) and layer["size"] == 16
        assert layer["key_size"] == 8
        assert torch.allclose(layer["maps"].sum(-1), torch.ones(2, 256), atol=1e-5)
    assert all(not block.record for _, block in
               conditional.attention_layers(trainer.generator))


# The hinge monitor ---------------------------------------------------------------------------------

def frame_of(steps=1500, **series):
    rows = [[step, step / 100, name, value(step)] for step in range(10, steps + 1, 10)
            for name, value in series.items()]
    return pd.DataFrame(rows, columns=["step", "epoch", "name", "value"])


HEALTHY = {"loss/discriminator": lambda s: 1.5 + 0.1 * (s % 3), "loss/generator":
           lambda s: 0.4 + 0.1 * (s % 2), "d_accuracy/mean": lambda s: 0.7,
           "diversity/ratio": lambda s: 0.95, "diversity/nearest": lambda s: 0.9,
           "classes/covered": lambda s: 10, "classes/entropy": lambda s: 0.97,
           "classes/intended_accuracy": lambda s: 0.8}


def test_the_hinge_monitor_uses_its_own_bands():
    health = HingeHealth()
    config = {"learning_rate_d": 4e-4, "learning_rate_g": 1e-4, "discriminator_steps": 1,
              "beta1": 0.0, "latent_dim": 128}
    healthy = health.diagnose(frame_of(**HEALTHY), config)
    assert healthy.state == "healthy", healthy.evidence
    assert any("80%" in line and "intended class" in line for line in healthy.evidence)
    # A hinge d_loss of 1.5 is healthy here; under the tutorial's BCE rules it would not be.
    winning = health.diagnose(frame_of(**{**HEALTHY, "loss/discriminator": lambda s: 0.05,
                                          "loss/generator": lambda s: 3.0,
                                          "d_accuracy/mean": lambda s: 0.99}), config)
    assert winning.state == "convergence failure"
    assert {remedy.label for remedy in winning.remedies} >= {"Lower D's learning rate (÷4)"}
    collapsed = health.diagnose(frame_of(**{**HEALTHY, "classes/covered": lambda s: 2}), config)
    assert collapsed.state == "mode collapse"
    assert "2 D steps per G step" in {remedy.label for remedy in collapsed.remedies}
    t = health.thresholds
    assert f"L_D {t.d_loss_band[0]:g}–{t.d_loss_band[1]:g}" in health.explanation
    assert "hinge" in health.explanation and "tutorial's" in health.explanation
    for name in ("sagan", "biggan"):
        assert isinstance(MODELS[name].health, HingeHealth)


@pytest.mark.parametrize("name, small", [
    ("sagan", {"latent_dim": 4, "discriminator_steps": 2, "beta1": 0.5,
               "learning_rate_d": 1e-3}),
    ("biggan", {"latent_dim": 4, "learning_rate_d": 1e-3}),
])
def test_every_remedy_either_resumes_the_snapshot_or_says_it_starts_over(name, small):
    spec, config = tiny(name, **small)
    payload = make_trainer(spec, config, (1, 32, 32), CPU).state()
    seen = 0
    for state in ("mode collapse", "convergence failure", "oscillation"):
        for remedy in spec.health.remedies(state, dict(config.__dict__)):
            changed = from_dict(spec.config_cls, {**config.__dict__, **remedy.changes})
            trainer = make_trainer(spec, changed, (1, 32, 32), CPU)
            if remedy.from_scratch:
                with pytest.raises(RuntimeError):
                    trainer.load_state(payload)
            else:
                trainer.load_state(payload)
            seen += 1
    assert seen >= 4


def test_presets_are_valid_and_the_failure_demo_is_there():
    for name in ("sagan", "biggan"):
        spec = MODELS[name]
        titles = list(spec.presets)
        assert titles[0].startswith("CPU") and any("Paper" in t for t in titles)
        assert any("Failure demo" in t for t in titles)
        for values in spec.presets.values():
            from_dict(spec.config_cls, values)


# The pages -----------------------------------------------------------------------------------------

def open_page(page: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    switch_to(app, page)
    app.run()
    return app


def tiny_checkpoint(name, tiny_data, tmp_path, **overrides) -> dict:
    spec, config = tiny(name, **overrides)
    final = list(train(spec, config, tiny_data, checkpoint_dir=tmp_path))[-1]
    return checkpoints.load(final.path, expected_model=name)


def opened(app, name, payload):
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    app.session_state[f"{name}.view"] = ("upload", {"name": f"{name}.pt", "payload": payload,
                                                    "bytes": buffer.getvalue()})
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_the_sagan_page_shows_the_attention_viewer_and_follows_the_sliders(tiny_data, tmp_path):
    app = open_page("sagan")
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value == "SAGAN"
    payload = tiny_checkpoint("sagan", tiny_data, tmp_path, attention_heads=2,
                              attention_reduction=2)
    opened(app, "sagan", payload)
    assert any(h.value == "Attention viewer" for h in app.subheader)
    assert any(h.value == "Choose the class" for h in app.subheader)
    before = [c.value for c in app.caption if c.value.startswith("Query pixel")]
    assert before == [c for c in before if c.startswith("Query pixel (16, 16)")]
    app.slider(key="sagan.attention.x").set_value(3).run()
    app.slider(key="sagan.attention.y").set_value(30).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(c.value.startswith("Query pixel (3, 30)") for c in app.caption)
    app.selectbox(key="sagan.class").set_value(7).run()
    assert not app.exception
    assert any("Sneaker: 8 samples" in c.value for c in app.caption)
    # How it trained: the hinge monitor says which bands it uses.
    assert any("Bands for the hinge loss" in c.value for c in app.caption)


def test_the_biggan_page_shows_truncation_interpolation_and_the_curve(tiny_data, tmp_path,
                                                                     monkeypatch):
    from ui.panels import biggan as page
    monkeypatch.setattr(page, "CURVE_PER_CLASS", 5)
    app = open_page("biggan")
    assert not app.exception, [e.value for e in app.exception]
    opened(app, "biggan", tiny_checkpoint("biggan", tiny_data, tmp_path))
    headers = {h.value for h in app.subheader}
    assert {"Choose the class", "Class interpolation",
            "Fidelity against diversity: the truncation trick, measured"} <= headers
    assert any("ψ = 0.5" in c.value for c in app.caption)
    app.slider(key="biggan.psi").set_value(0.25).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("ψ = 0.25" in c.value for c in app.caption)
    app.toggle(key="biggan.truncate").set_value(False).run()
    assert any("no truncation" in c.value for c in app.caption)
    app.selectbox(key="biggan.pair").set_value("Sneaker → Ankle boot").run()
    assert not app.exception
    assert any(c.value.startswith("Sneaker → Ankle boot") for c in app.caption)


# The attention viewer in a real browser ------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run app.py` on loopback (tests/test_browser.py's fixture, for this file)."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DLSTUDIO_DATASET": "synthetic",
           "DLSTUDIO_RUNS_DIR": str(tmp_path_factory.mktemp("runs"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("streamlit did not start: " + process.stdout.read().decode()[-2000:])
    yield url
    process.terminate()
    process.wait(10)


@pytest.mark.browser
@pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(),
                    reason="Debian's chromium is not installed (make browser)")
def test_clicking_a_pixel_shows_where_it_attends(server, tiny_data, tmp_path):
    """Open a SAGAN checkpoint on its page, click a pixel of the generated image: the sliders
    move to it and the heatmaps are drawn for that query pixel."""
    import time
    from playwright.sync_api import sync_playwright
    path = tmp_path / "tiny-sagan.pt"
    checkpoints.save(path, tiny_checkpoint("sagan", tiny_data, tmp_path))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 2400})
            tab.goto(f"{server}/sagan")
            tab.wait_for_selector("h1", timeout=60_000)
            tab.locator("[data-testid='stFileUploader'] input[type='file']").first \
                .set_input_files(str(path))
            tab.get_by_text("Attention viewer").wait_for(timeout=120_000)
            caption = tab.get_by_text("Query pixel (").first
            caption.wait_for(timeout=60_000)
            assert caption.inner_text().startswith("Query pixel (16, 16)")
            chart = tab.locator("[data-testid='stPlotlyChart']").filter(has_text="Click a pixel")
            point = chart.first.locator("g.points path.point").nth(25 * 32 + 5)   # pixel (5, 25)
            point.scroll_into_view_if_needed()
            box = point.bounding_box()
            tab.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            deadline = time.time() + 60
            while time.time() < deadline and \
                    not tab.get_by_text("Query pixel (5, 25)").count():
                time.sleep(0.3)
            assert tab.get_by_text("Query pixel (5, 25)").count() == 1
            charts = tab.locator("[data-testid='stPlotlyChart']")
            for network in ("G", "D"):                     # a heatmap per attention block
                assert charts.filter(has_text=f"{network} at 16×16").count() >= 1
            assert tab.locator("[data-testid='stException']").count() == 0
            shots = ROOT / "artifacts" / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(shots / "sagan-attention-viewer.png"), full_page=True)
        finally:
            browser.close()


def test_biggan_weight_average_ramps_up_so_a_short_run_draws_from_recent_weights():
    """A plain 0.999 average over 200 steps is still mostly the starting weights; BigGAN's
    ramped one (half-life at most 5% of the steps so far) follows the trained ones."""
    from core.models.gans.base import WeightAverage
    live = torch.nn.Linear(4, 4)
    start = live.weight.detach().clone()
    plain = WeightAverage(0.999)
    ramped = WeightAverage(0.999, rampup=biggan.BigGANTrainer.average_rampup)
    for _ in range(200):
        with torch.no_grad():
            live.weight.add_(0.01)         # the live weights move by 2.0 in all
        plain.update(live)
        ramped.update(live)
    moved = lambda average: (average.network.weight - start).mean().item()
    assert moved(plain) < 0.5 and moved(ramped) > 1.5
    assert ramped.current_decay() < 0.999 and plain.current_decay() == 0.999
    for _ in range(100_000):               # long runs reach the configured decay
        ramped.updates += 1
    assert ramped.current_decay() == 0.999


def test_a_resumed_biggan_keeps_its_average_s_ramp():
    spec, config = tiny("biggan", generator_ema=0.999)
    trainer = make_trainer(spec, config, (1, 32, 32), CPU)
    trainer.load_state({**trainer.state(), "step": 400}, with_optimizer=False)
    assert trainer.average.updates == 400 and trainer.average.rampup == 0.05
