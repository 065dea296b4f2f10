"""StyleGAN: the two forms of modulation agree, demodulation, style mixing, truncation, noise,
path length, R1, the mapping network's learning rate, the monitor, the page and the browser."""
import math
import time

import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core import checkpoints
from core.config import ConfigError, from_dict
from core.gan_eval import judge_for
from core.gan_task import make_trainer
from core.models.gans import stylegan
from core.registry import GANS, MODELS
from core.training import Finished, train
from tests.conftest import ROOT
from tests.pages import switch_to

CPU = torch.device("cpu")
SPEC = MODELS["stylegan"]


def tiny(**overrides):
    values = {"epochs": 1, "batch_size": 16, "log_every_steps": 2, "sample_every_steps": 3,
              "monitor_every_windows": 2, "generator_width": 8, "discriminator_width": 8,
              "latent_dim": 8, "style_dim": 8, "mapping_layers": 2}
    values.update(overrides)
    return from_dict(SPEC.config_cls, values)


def trainer_of(**overrides):
    torch.manual_seed(0)
    return make_trainer(SPEC, tiny(**overrides), (1, 32, 32), CPU)


def test_stylegan_is_a_registered_gan_with_valid_presets():
    assert "stylegan" in GANS
    for values in SPEC.presets.values():
        from_dict(SPEC.config_cls, values)
    with pytest.raises(ConfigError, match="must equal z size"):
        from_dict(SPEC.config_cls, {"mapping_layers": 0, "latent_dim": 32, "style_dim": 64})


# Modulated convolution -----------------------------------------------------------------------

@pytest.mark.parametrize("demodulate, kernel", [(True, 3), (False, 3), (False, 1)])
def test_fast_and_grouped_modulation_give_the_same_output(demodulate, kernel):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(5, 6, 8, 8, generator=generator)
    weight = torch.randn(7, 6, kernel, kernel, generator=generator)
    styles = torch.randn(5, 6, generator=generator) + 1
    padding = kernel // 2
    fast = stylegan.modulated_conv2d(x, weight, styles, demodulate, padding)
    grouped = stylegan.modulated_conv2d_grouped(x, weight, styles, demodulate, padding)
    assert fast.shape == grouped.shape == (5, 7, 8, 8)
    assert torch.allclose(fast, grouped, atol=1e-5, rtol=1e-4)


def test_a_whole_generator_draws_the_same_images_with_either_form():
    fast, grouped = trainer_of(), trainer_of(modulation="grouped")
    grouped.generator.load_state_dict(fast.generator.state_dict())
    z = fast.noise(6, torch.Generator().manual_seed(1))
    assert torch.allclose(fast.generate(z), grouped.generate(z), atol=1e-5)
    # and the gradients G receives agree too (training uses the fast form)
    for trainer in (fast, grouped):
        trainer.generator.train()
        trainer.generator.synthesis(trainer.generator.mapping(z)[:, None].expand(-1, 7, -1),
                                    trainer.generator.synthesis.noise_inputs(6, "const")
                                    ).square().mean().backward()
    for a, b in zip(fast.generator.parameters(), grouped.generator.parameters()):
        assert torch.allclose(a.grad, b.grad, atol=1e-5, rtol=1e-3)


def test_demodulation_keeps_output_feature_variance_near_one():
    """StyleGAN2's premise: with unit-variance inputs, the demodulated output has unit standard
    deviation whatever the style; without demodulation it scales with the style."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(16, 32, 16, 16, generator=generator)
    weight = torch.randn(24, 32, 3, 3, generator=generator)
    for scale in (0.1, 1.0, 10.0):
        styles = scale * torch.randn(16, 32, generator=generator).exp()
        out = stylegan.modulated_conv2d(x, weight, styles)
        interior = out[:, :, 1:-1, 1:-1]                    # zero padding lowers the border
        per_map = interior.std((2, 3))                      # (B, out)
        assert abs(float(per_map.mean()) - 1) < 0.08, (scale, float(per_map.mean()))
        plain = stylegan.modulated_conv2d(x, weight, styles, demodulate=False)
        assert abs(float(plain[:, :, 1:-1, 1:-1].std()) - 1) > 0.5


# Styles: mixing, truncation, noise -----------------------------------------------------------

def test_mixing_at_layer_l_uses_w1_below_l_and_w2_from_l_on():
    trainer = trainer_of()
    generator = trainer.drawing_network()
    count = trainer.layer_count
    assert trainer.resolutions == [4, 8, 8, 16, 16, 32, 32]
    w1, w2 = trainer.styles(trainer.noise(3)), trainer.styles(trainer.noise(3))
    seen = {}
    hooks = [layer.affine.register_forward_hook(
        lambda module, inputs, output, index=index: seen.__setitem__(index, inputs[0].clone()))
        for index, layer in enumerate(generator.synthesis.layers)]
    for crossover in range(count + 1):
        seen.clear()
        images = trainer.mixed(w1, w2, crossover)
        for index in range(count):
            expected = w1 if index < crossover else w2
            assert torch.equal(seen[index], expected), (crossover, index)
        if crossover in (0, count):
            assert torch.allclose(images, trainer.synthesize(w2 if crossover == 0 else w1),
                                  atol=1e-6)
    for hook in hooks:
        hook.remove()
    assert stylegan.crossover_after(trainer.resolutions, 8) == 3   # coarse = 4-8 px
    with pytest.raises(ValueError, match="crossover layer 8 does not exist: this generator has "
                                         "layers 0–6"):
        trainer.mixed(w1, w2, 8)
    with pytest.raises(ValueError, match="does not exist"):
        stylegan.mix_styles(w1, w2, -1, count)


def test_psi_zero_gives_the_same_image_for_every_seed_and_bad_psi_is_refused():
    trainer = trainer_of()
    for step in range(3):    # move the tracked average away from its zero start
        trainer.train_step(torch.rand(16, 1, 32, 32) * 2 - 1)
    trainer.update_average()
    z = trainer.noise(6, torch.Generator().manual_seed(2))
    average = trainer.synthesize(trainer.styles(z, psi=0.0))
    assert torch.equal(average, average[:1].expand_as(average))
    assert torch.allclose(average[:1], trainer.synthesize(trainer.w_average()[None]), atol=1e-6)
    free = trainer.synthesize(trainer.styles(z, psi=1.0))
    assert torch.equal(free, trainer.generate(z))
    assert not torch.equal(free[0], free[1])
    for psi in (-0.1, 2.5):
        with pytest.raises(ValueError, match=r"truncation ψ must be between 0 and 2"):
            trainer.styles(z, psi=psi)


def test_the_tracked_average_w_follows_the_batches():
    trainer = trainer_of(w_average_decay=0.5)
    mapping = trainer.generator.mapping
    assert float(mapping.w_average.abs().sum()) == 0
    z = torch.randn(32, 8)
    w = mapping(z, track_average=True)
    assert torch.allclose(mapping.w_average, 0.5 * w.mean(0), atol=1e-6)
    before = mapping.w_average.clone()
    mapping(z)                                   # without tracking: unchanged
    assert torch.equal(mapping.w_average, before)


def test_noise_can_be_resampled_or_switched_off_per_layer():
    trainer = trainer_of()
    for layer in trainer.generator.synthesis.layers:    # give the noise a visible strength
        layer.noise_strength.data.fill_(0.5)
    trainer.average.network = None                       # draw with G itself
    w = trainer.styles(trainer.noise(4))
    stored = trainer.synthesize(w)
    assert torch.equal(stored, trainer.synthesize(w))                       # depends on w only
    first = trainer.synthesize(w, noise="random", noise_seed=1)
    assert torch.equal(first, trainer.synthesize(w, noise="random", noise_seed=1))
    assert not torch.allclose(first, trainer.synthesize(w, noise="random", noise_seed=2))
    everything_off = trainer.synthesize(w, noise="none")
    all_layers_off = trainer.synthesize(w, noise_enabled=[False] * trainer.layer_count)
    assert torch.equal(everything_off, all_layers_off)
    one_off = trainer.synthesize(w, noise_enabled=[True] * 6 + [False])
    assert not torch.equal(one_off, stored) and not torch.equal(one_off, everything_off)
    assert trainer.noise_strengths() == [0.5] * 7
    with pytest.raises(ValueError, match="noise switches for 3 layers"):
        trainer.synthesize(w, noise_enabled=[True] * 3)


# Path length and the style-mixing measure -------------------------------------------------------

def test_path_length_is_zero_for_a_generator_that_ignores_its_input(tiny_data):
    judge = judge_for(tiny_data)
    trainer = trainer_of()
    trainer.average.network = None
    summary = stylegan.path_length_summary(trainer, judge, paths=200)
    assert summary["z"]["mean"] > 0 and summary["w"]["mean"] > 0        # a real generator moves
    with torch.no_grad():   # every style becomes its bias: the image no longer depends on w
        for module in trainer.generator.modules():
            if isinstance(module, (stylegan.StyledConv, stylegan.ToImage)):
                module.affine.weight.zero_()
    summary = stylegan.path_length_summary(trainer, judge, paths=200)
    assert summary["z"]["mean"] == 0 and summary["w"]["mean"] == 0
    with pytest.raises(ValueError, match="space must be"):
        stylegan.path_lengths(trainer, judge, "x", paths=10)


def test_the_path_length_does_not_depend_on_epsilon(tiny_data):
    """d / ε² measures a derivative: halving ε quarters the squared distance and the ratio stays."""
    judge = judge_for(tiny_data)
    trainer = trainer_of()
    trainer.average.network = None
    small = stylegan.path_lengths(trainer, judge, "w", paths=64, epsilon=1e-3)
    smaller = stylegan.path_lengths(trainer, judge, "w", paths=64, epsilon=5e-4)
    ratio = float(small.median() / smaller.median())
    assert 0.7 < ratio < 1.4, ratio        # d/ε² does not depend on ε for small ε


def test_mixing_follows_gives_shares_and_evaluate_prints_the_figures(tiny_data):
    trainer = trainer_of()
    result = stylegan.mixing_follows(trainer, judge_for(tiny_data), count=64, batch=32)
    assert result["crossover"] == 3 and result["pairs"] == 64
    assert 0 <= result["coarse"] <= 1 and 0 <= result["fine"] <= 1
    values = trainer.extra_metrics(judge_for(tiny_data), count=100)
    assert set(values) == {"stylegan/ppl_z", "stylegan/ppl_w", "stylegan/ppl_w_over_z",
                           "stylegan/ppl_z_median", "stylegan/ppl_w_median",
                           "stylegan/mixing_follows_coarse_8px", "stylegan/mixing_follows_fine_8px",
                           "stylegan/mixing_follows_coarse_8px_differing"}
    assert values["stylegan/ppl_w_over_z"] == pytest.approx(
        values["stylegan/ppl_w"] / values["stylegan/ppl_z"])
    assert trainer.extra_metrics(None) == {}


# Training: the step, R1, the mapping's learning rate ------------------------------------------

def test_a_step_gives_finite_metrics_and_r1_is_lazy():
    trainer = trainer_of(r1_every=4)
    real = torch.rand(16, 1, 32, 32) * 2 - 1
    r1_values = []
    for step in range(6):
        metrics = trainer.train_step(real)
        r1_values.append(float(metrics["stylegan/r1"]))
    assert {"loss/discriminator", "loss/generator", "d_accuracy/mean", "stylegan/r1",
            "stylegan/mixing", "stylegan/w_spread", "stylegan/noise_strength"} <= set(metrics)
    assert all(math.isfinite(float(value)) for value in metrics.values())
    # measured at steps 0 and 4 only, carried in between
    assert r1_values[0] == r1_values[1] == r1_values[2] == r1_values[3] != r1_values[4]
    assert r1_values[4] == r1_values[5] > 0


def test_r1_is_the_squared_gradient_of_d_at_real_images():
    trainer = trainer_of()
    real = torch.rand(8, 1, 32, 32) * 2 - 1
    logits, penalty = trainer.r1_penalty(real)
    x = real.clone().requires_grad_(True)
    gradient, = torch.autograd.grad(trainer.discriminator(x).sum(), x)
    assert torch.allclose(penalty, gradient.square().flatten(1).sum(1).mean(), rtol=1e-5)
    assert logits.shape == (8,)


def test_r1_on_makes_d_smoother_at_real_images(tiny_data):
    """A fast D (lr 0.01) sharpens: its gradient at real images grew 20x in 30 steps (to 0.41
    when measured); with a strong R1 it stayed small (0.034)."""
    real = torch.nn.functional.interpolate(tiny_data.train_images.float() / 127.5 - 1,
                                           size=(32, 32), mode="bilinear")
    norms = {}
    for gamma in (0.0, 10.0):
        trainer = trainer_of(r1_gamma=gamma, r1_every=1, style_mixing=0.0, learning_rate_d=1e-2)
        generator = torch.Generator().manual_seed(0)
        for step in range(30):
            trainer.train_step(real[torch.randint(0, len(real), (16,), generator=generator)])
        norms[gamma] = float(trainer.r1_penalty(real[:64])[1].detach())
    assert norms[10.0] < 0.2 * norms[0.0], norms


def test_the_mapping_network_learns_at_a_hundredth_of_the_rate():
    """Equalised learning rate with a multiplier: after one Adam step the effective weights of a
    0.01-multiplier layer move 1/100 as far as those of an ordinary one."""
    moved = {}
    for multiplier in (1.0, 0.01):
        torch.manual_seed(0)
        layer = stylegan.EqualLinear(16, 16, lr_multiplier=multiplier)
        optimizer = torch.optim.Adam(layer.parameters(), lr=1e-3, betas=(0.0, 0.99))
        before = (layer.weight * layer.weight_gain).detach().clone()
        inputs = torch.randn(32, 16, generator=torch.Generator().manual_seed(1))
        layer(inputs).square().mean().backward()
        optimizer.step()
        moved[multiplier] = float(((layer.weight * layer.weight_gain).detach() - before).abs().mean())
    assert moved[0.01] / moved[1.0] == pytest.approx(0.01, rel=1e-3)


def test_style_mixing_regularisation_mixes_about_the_configured_share():
    trainer = trainer_of(style_mixing=0.9)
    mixes = [bool(trainer.training_styles(torch.randn(4, 8))[1]) for _ in range(400)]
    assert 0.85 < sum(mixes) / len(mixes) < 0.95
    never = trainer_of(style_mixing=0.0)
    ws, mixing = never.training_styles(torch.randn(4, 8))
    assert not mixing and torch.equal(ws, ws[:, :1].expand_as(ws))


def test_the_weight_average_ramps_up_so_a_short_run_draws_with_recent_weights():
    trainer = trainer_of(generator_ema=0.999)
    trainer.steps = 2000                          # half-life 5% of 2,000 steps = 100 steps
    assert trainer.average_decay() == pytest.approx(0.5 ** (1 / 100))
    trainer.steps = 100_000
    assert trainer.average_decay() == 0.999       # capped at the configured decay
    trainer = trainer_of(generator_ema=0.999)
    initial = trainer.generate(trainer.noise(8, torch.Generator().manual_seed(3)), averaged=False)
    real = torch.rand(16, 1, 32, 32) * 2 - 1
    for step in range(20):
        trainer.train_step(real)
        trainer.update_average()
    z = trainer.noise(8, torch.Generator().manual_seed(3))
    averaged, live = trainer.generate(z), trainer.generate(z, averaged=False)
    assert (averaged - live).abs().mean() < 0.5 * (averaged - initial).abs().mean()
    off = trainer_of(generator_ema=0.0)
    off.train_step(real)
    off.update_average()
    assert off.generator_average is None


def test_training_through_the_loop_resumes_and_stores_the_measurements(tiny_data, tmp_path):
    config = tiny(epochs=2)
    events = list(train(SPEC, config, tiny_data, checkpoint_dir=tmp_path))
    final = events[-1]
    assert isinstance(final, Finished)
    evaluation = final.evaluation
    assert set(evaluation["ppl"]) >= {"z", "w", "paths", "epsilon"}
    assert len(evaluation["ppl"]["z"]["lengths"]) == 500
    assert 0 <= evaluation["mixing"]["coarse"] <= 1
    payload = checkpoints.load(final.path, expected_model="stylegan")
    assert payload["stylegan_steps"] == final.step
    first = make_trainer(SPEC, config, (1, 32, 32), CPU)
    first.load_state(payload)
    assert first.steps == final.step
    z = first.noise(4)
    second = make_trainer(SPEC, config, (1, 32, 32), CPU)
    second.load_state(payload)
    assert torch.equal(first.generate(z), second.generate(z))
    assert torch.equal(first.w_average(), second.w_average())
    rows = pd.DataFrame(payload["metrics"], columns=["step", "epoch", "name", "value"])
    assert {"stylegan/r1", "stylegan/w_spread"} <= set(rows["name"])
    resumed = list(train(SPEC, config, tiny_data, resume=payload))
    assert isinstance(resumed[-1], Finished) and resumed[0].start_step == final.step


def test_a_checkpoint_of_another_model_is_refused_with_a_clear_message(tiny_data, tmp_path):
    dcgan = MODELS["dcgan"]
    config = from_dict(dcgan.config_cls, {"epochs": 1, "batch_size": 16, "generator_width": 4,
                                          "discriminator_width": 4})
    final = list(train(dcgan, config, tiny_data, checkpoint_dir=tmp_path))[-1]
    with pytest.raises(checkpoints.CheckpointError, match="for model 'dcgan', not 'stylegan'"):
        checkpoints.load(final.path, expected_model="stylegan")
    with pytest.raises(ValueError, match="for model 'dcgan', not StyleGAN"):
        trainer_of().load_state(checkpoints.load(final.path))


# The health monitor ------------------------------------------------------------------------------

def frame_of(steps=1500, **series):
    rows = [[step, step / 100, name, value(step)] for step in range(10, steps + 1, 10)
            for name, value in series.items()]
    return pd.DataFrame(rows, columns=["step", "epoch", "name", "value"])


HEALTHY = {"loss/discriminator": lambda s: 1.1 + 0.05 * (s % 3),
           "loss/generator": lambda s: 1.0, "d_accuracy/mean": lambda s: 0.66,
           "diversity/ratio": lambda s: 0.95, "diversity/nearest": lambda s: 0.8,
           "classes/covered": lambda s: 10, "classes/entropy": lambda s: 0.95,
           "stylegan/r1": lambda s: 0.02, "stylegan/w_spread": lambda s: 5.0}


def test_the_monitor_uses_this_models_bands_and_lists_r1():
    health, config = SPEC.health, tiny().__dict__
    healthy = health.diagnose(frame_of(**HEALTHY), config)
    assert healthy.state == "healthy", healthy
    text = " ".join(healthy.evidence)
    assert "R1" in text and "w spread" in text
    assert "above the tutorial's band" not in text         # d_loss 1.1 is normal here
    assert health.thresholds.d_loss_band[0] <= 1.1 <= health.thresholds.d_loss_band[1]
    failing = health.diagnose(frame_of(**{**HEALTHY, "loss/discriminator": lambda s: 0.02,
                                          "d_accuracy/mean": lambda s: 1.0,
                                          "loss/generator": lambda s: 6.0}), config)
    assert failing.state == "convergence failure"
    assert any("R1" in remedy.label for remedy in failing.remedies)
    early = health.diagnose(frame_of(**{**HEALTHY, "classes/covered": lambda s: 4}), config)
    assert early.state == "healthy"          # garments still forming: class checks wait
    assert health.diagnose(frame_of(**{**HEALTHY, "diversity/nearest": lambda s: 0.01}),
                           config).state == "mode collapse"    # near-duplicates do not wait
    collapsed = health.diagnose(frame_of(steps=4000, **{**HEALTHY, "classes/covered": lambda s: 2}),
                                {**config, "generator_ema": 0.0})
    assert collapsed.state == "mode collapse"
    labels = [remedy.label for remedy in collapsed.remedies]
    assert any("weight average" in label for label in labels)
    assert not any("Spectral" in label or "smoothing" in label for label in labels)


def test_every_remedy_either_resumes_the_snapshot_or_says_it_starts_over():
    config = tiny(latent_dim=2, style_dim=8)
    payload = make_trainer(SPEC, config, (1, 32, 32), CPU).state()
    seen = 0
    for state in ("mode collapse", "convergence failure", "oscillation"):
        for remedy in SPEC.health.remedies(state, dict(config.__dict__, generator_ema=0.0)):
            changed = from_dict(SPEC.config_cls, {**config.__dict__, **remedy.changes})
            trainer = make_trainer(SPEC, changed, (1, 32, 32), CPU)
            if remedy.from_scratch:
                with pytest.raises(RuntimeError):
                    trainer.load_state(payload)
            else:
                trainer.load_state(payload)
            seen += 1
    assert seen >= 6


# The page ----------------------------------------------------------------------------------------

def open_page() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    switch_to(app, "stylegan")
    app.run()
    return app


def images_shown(app) -> list[str]:
    return [image.url for element in app.get("image") for image in element.proto.imgs]


def test_the_page_trains_and_the_crossover_select_redraws_the_mixing_grid():
    app = open_page()
    assert not app.exception, [e.value for e in app.exception]
    assert any("What StyleGAN changed" in header.value for header in app.subheader)
    app.slider(key="stylegan.field.epochs").set_value(1)
    app.slider(key="stylegan.field.generator_width").set_value(8)
    app.slider(key="stylegan.field.discriminator_width").set_value(8)
    next(b for b in app.button if b.label == "Train").click()
    app.run()
    from core.jobs import manager
    _, job_id = app.session_state["stylegan.view"]
    job = manager().wait(manager().get(job_id), timeout=180)
    assert job.state == "finished", job.message
    assert "ppl" in job.evaluation
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    headers = [header.value for header in app.subheader]
    for title in ("Style mixing", "Truncation in W", "Noise inputs", "Interpolation in Z and in W",
                  "Perceptual path length: Z vs W"):
        assert title in headers
    assert {m.label for m in app.metric} >= {"PPL in Z", "PPL in W"}
    select = app.selectbox(key="stylegan.crossover")
    assert select.value == 3 and select.options[0].startswith("layer 1: rows give layers 0–0")
    before = images_shown(app)
    select.set_value(1).run()
    assert not app.exception, [e.value for e in app.exception]
    after = images_shown(app)
    changed = [index for index, (a, b) in enumerate(zip(before, after)) if a != b]
    assert len(changed) == 1, changed          # only the mixing grid is redrawn differently
    app.slider(key="stylegan.psi").set_value(0.0).run()
    assert not app.exception
    app.multiselect(key="stylegan.noise.layers").set_value([0, 1, 2]).run()
    assert not app.exception
    assert any("cells their row's class" in m.value for m in app.markdown)


# A real browser: drag the ψ slider ------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
@pytest.mark.slow   # 25 s; the AppTest of the ψ slider stays in the default suite
@pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(),
                    reason="Debian's chromium is not installed (make browser)")
def test_dragging_the_psi_slider_redraws_the_truncated_samples(tmp_path_factory, tiny_data):
    from tests.test_browser import free_port, wait_rendered
    import os
    import subprocess
    import sys
    import urllib.request
    from playwright.sync_api import sync_playwright

    # A small trained model, opened on the page as an uploaded checkpoint.
    folder = tmp_path_factory.mktemp("model")
    checkpoint = list(train(SPEC, tiny(), tiny_data, checkpoint_dir=folder))[-1].path
    port = free_port()
    env = {**os.environ, "DLSTUDIO_DATASET": "synthetic",
           "DLSTUDIO_RUNS_DIR": str(tmp_path_factory.mktemp("runs"))}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.goto(f"{url}/stylegan")
            wait_rendered(page)
            page.locator("input[type='file']").first.set_input_files(str(checkpoint))
            page.get_by_role("heading", name="Truncation in W").wait_for(timeout=120_000)
            wait_rendered(page)
            caption = page.get_by_text("at ψ = 0.70").first
            caption.wait_for(timeout=30_000)
            slider = page.locator("[data-testid='stSlider']").filter(has_text="ψ (truncation)")
            thumb = slider.get_by_test_id("stSliderThumbValue").locator("xpath=..")
            thumb.scroll_into_view_if_needed()     # the pages are longer: pictures are bigger
            box = thumb.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] - 200, box["y"] + box["height"] / 2, steps=10)
            page.mouse.up()
            page.get_by_text("at ψ = 0.70").wait_for(state="detached", timeout=30_000)
            wait_rendered(page)
            value = float(slider.locator("input[type='range']").input_value())
            assert value < 0.7
            page.get_by_text(f"at ψ = {value:.2f}").first.wait_for(timeout=30_000)
            assert page.locator("[data-testid='stException']").count() == 0
            shots = ROOT / "artifacts" / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "stylegan-psi.png"), full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
