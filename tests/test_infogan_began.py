"""infoGAN (codes, Q, the explorer) and BEGAN (k_t, M_global, its monitor rules), on tiny data."""
import math

import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core import checkpoints
from core.config import from_dict
from core.gan_eval import judge_for
from core.models.gans.infogan import code_meanings, image_statistics, rank_correlation
from core.gan_task import make_trainer
from core.models.gans import began, infogan
from core.registry import GANS, MODELS
from core.training import Finished, Samples, train
from tests.conftest import ROOT
from tests.pages import switch_to

CPU = torch.device("cpu")


def tiny(name, **overrides):
    values = {"epochs": 1, "batch_size": 16, "log_every_steps": 2, "sample_every_steps": 3,
              "monitor_every_windows": 2}
    values.update({"infogan": {"generator_width": 8, "discriminator_width": 8},
                   "began": {"width": 4, "embedding_dim": 8}}[name])
    values.update(overrides)
    return MODELS[name], from_dict(MODELS[name].config_cls, values)


def test_both_models_are_registered_gans():
    assert {"infogan", "began"} <= set(GANS)


# infoGAN -------------------------------------------------------------------------------------

def test_codes_are_sampled_from_the_priors():
    generator = torch.Generator().manual_seed(0)
    categorical, continuous = infogan.sample_codes(100_000, 10, 2, generator)
    # Categorical: uniform over the 10 values (chi-square, 9 degrees of freedom, p = 0.001: 27.9).
    counts = torch.bincount(categorical, minlength=10).double()
    assert categorical.min() == 0 and categorical.max() == 9
    assert float(((counts - 10_000) ** 2 / 10_000).sum()) < 27.9
    # Continuous: uniform on [-1, 1]: inside the bounds, mean 0, variance 1/3, flat histogram.
    assert continuous.shape == (100_000, 2)
    assert continuous.min() >= -1 and continuous.max() <= 1
    assert continuous.mean(0).abs().max() < 0.01
    assert (continuous.var(0) - 1 / 3).abs().max() < 0.01
    histogram = torch.histc(continuous[:, 0], bins=10, min=-1, max=1)
    assert (histogram / 10_000 - 1).abs().max() < 0.05
    # The generator's input: z ~ N(0, 1), then an exact one-hot, then the continuous codes.
    _, config = tiny("infogan")
    trainer = make_trainer(MODELS["infogan"], config, (1, 28, 28), CPU)
    latent, codes, values = trainer.sample_latent(20_000, torch.Generator().manual_seed(1))
    z, one_hot, tail = latent.split([config.latent_dim, 10, 2], dim=1)
    assert abs(float(z.mean())) < 0.01 and abs(float(z.std()) - 1) < 0.01
    assert torch.equal(one_hot.sum(1), torch.ones(20_000)) and torch.equal(one_hot.argmax(1), codes)
    assert torch.equal(tail, values)


def test_infogan_step_gives_finite_metrics_and_images():
    spec, config = tiny("infogan")
    trainer = make_trainer(spec, config, (1, 28, 28), CPU)
    metrics = trainer.train_step(torch.rand(16, 1, 28, 28) * 2 - 1)
    assert {"loss/info", "info/mutual_information", "info/categorical_accuracy",
            "loss/discriminator", "d_accuracy/real"} <= set(metrics)
    assert all(math.isfinite(float(v)) for v in metrics.values())
    images = trainer.generate(trainer.noise(5))
    assert images.shape == (5, 1, 28, 28) and images.abs().max() <= 1


def test_the_information_loss_trains_g_and_q_not_ds_body():
    spec, config = tiny("infogan")
    trainer = make_trainer(spec, config, (1, 28, 28), CPU)
    q_ids = {id(p) for p in trainer.discriminator.q.parameters()}
    ids = lambda optimizer: {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert q_ids <= ids(trainer.optimizer_g) and not q_ids & ids(trainer.optimizer_d)
    assert {id(p) for p in trainer.discriminator.body.parameters()} <= ids(trainer.optimizer_d)
    body = [p.detach().clone() for p in trainer.discriminator.body.parameters()]
    config.learning_rate_d = 1e-12   # D's own step now barely moves the body
    for group in trainer.optimizer_d.param_groups:
        group["lr"] = 1e-12
    trainer.train_step(torch.rand(16, 1, 28, 28) * 2 - 1)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in
               zip(body, trainer.discriminator.body.parameters()))


def test_q_recovers_the_codes_better_than_chance(tiny_data):
    torch.manual_seed(0)
    spec, config = tiny("infogan", continuous_loss="mse", lambda_continuous=1.0)
    trainer = make_trainer(spec, config, (1, 28, 28), CPU)
    real = tiny_data.train_images.float() / 127.5 - 1
    for step in range(300):
        trainer.train_step(real[torch.randint(0, len(real), (16,))])
    latent, categorical, continuous = trainer.sample_latent(500, torch.Generator().manual_seed(3))
    predicted, means = trainer.predict_codes(trainer.generate(latent))
    accuracy = float((predicted == categorical).float().mean())
    correlation = float(torch.corrcoef(torch.stack([means[:, 0], continuous[:, 0]]))[0, 1])
    assert accuracy > 0.5, accuracy          # chance: 0.1
    assert correlation > 0.5, correlation    # chance: 0


def test_image_statistics_and_rank_correlation():
    images = -torch.ones(3, 1, 28, 28)
    images[0, :, 10:18, 12:16] = 1      # narrow
    images[1, :, 10:18, 8:20] = 1       # wide
    images[2, :, 4:24, 8:20] = 0.0      # wide, tall, grey
    stats = image_statistics(images)
    assert stats["width"][1] > stats["width"][0] and stats["height"][2] > stats["height"][1]
    assert stats["ink"][1] > stats["ink"][0] and stats["brightness"][2] < stats["brightness"][1]
    x = torch.arange(10.0)
    assert float(rank_correlation(x, x ** 3)) == pytest.approx(1.0)
    assert float(rank_correlation(x, -x)) == pytest.approx(-1.0)


def test_infogan_trains_through_the_shared_loop_and_stores_what_codes_learned(tiny_data, tmp_path):
    spec, config = tiny("infogan", epochs=2)
    events = list(train(spec, config, tiny_data, checkpoint_dir=tmp_path))
    assert isinstance(events[-1], Finished)
    assert any(isinstance(e, Samples) for e in events)
    codes = events[-1].evaluation["codes"]
    assert len(codes["categorical"]) == 10 and len(codes["continuous"]) == 2
    assert 0.1 <= codes["purity"] <= 1 and 1 <= codes["distinct_classes"] <= 10
    payload = checkpoints.load(events[-1].path, expected_model="infogan")
    assert payload["evaluation"]["codes"]["purity"] == codes["purity"]
    rows = pd.DataFrame(payload["metrics"], columns=["step", "epoch", "name", "value"])
    assert {"loss/info", "info/mutual_information"} <= set(rows["name"])


def test_code_meanings_on_a_tiny_trainer(tiny_data):
    spec, config = tiny("infogan")
    trainer = make_trainer(spec, config, (1, 28, 28), CPU)
    meanings = code_meanings(trainer, judge_for(tiny_data), count=200, sweeps=10)
    assert meanings["samples"] == 200 and meanings["sweeps"] == 10
    for row in meanings["continuous"]:
        assert -1 <= row["correlation"] <= 1 and row["statistic"] in row["along_sweep"]


# BEGAN ---------------------------------------------------------------------------------------

def test_k_stays_in_the_unit_interval():
    k = torch.tensor(0.0)
    assert float(began.update_k(k, 0.1, 0.5, torch.tensor(0.1), torch.tensor(5.0))) == 0.0
    assert float(began.update_k(torch.tensor(0.99), 0.1, 0.5, torch.tensor(5.0),
                                torch.tensor(0.0))) == 1.0
    assert float(began.update_k(torch.tensor(0.5), 0.001, 0.5, torch.tensor(0.2),
                                torch.tensor(0.05))) == pytest.approx(0.5 + 0.001 * 0.05)
    # In training, with the fastest controller the form allows: pushed to both bounds, never past.
    spec, config = tiny("began", lambda_k=0.1, initial_k=0.5)
    trainer = make_trainer(spec, config, (1, 32, 32), CPU)
    ks = [float(trainer.train_step(torch.rand(16, 1, 32, 32) * 2 - 1)["began/k"]) for _ in range(40)]
    assert all(0.0 <= k <= 1.0 for k in ks)


def test_m_global_and_the_losses_are_computed_as_defined():
    loss_real, loss_fake = torch.tensor(0.2), torch.tensor(0.05)
    assert float(began.convergence_measure(0.5, loss_real, loss_fake)) == pytest.approx(0.2 + 0.05)
    assert float(began.convergence_measure(0.5, loss_real, torch.tensor(0.3))) == \
        pytest.approx(0.2 + 0.2)
    spec, config = tiny("began", gamma=0.7)
    trainer = make_trainer(spec, config, (1, 32, 32), CPU)
    real = torch.rand(16, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        before = float((real - trainer.discriminator(real)).abs().mean())
    metrics = trainer.train_step(real)
    assert float(metrics["began/loss_real"]) == pytest.approx(before, rel=1e-5)
    l_x, l_g = float(metrics["began/loss_real"]), float(metrics["began/loss_fake"])
    assert float(metrics["began/m_global"]) == pytest.approx(l_x + abs(0.7 * l_x - l_g), rel=1e-5)
    assert float(metrics["began/k"]) == pytest.approx(
        min(max(config.lambda_k * (0.7 * l_x - l_g), 0), 1), abs=1e-7)
    assert float(metrics["loss/discriminator"]) == pytest.approx(l_x, rel=1e-5)   # k_0 = 0


def test_began_trains_through_the_shared_loop_and_resumes_k(tiny_data, tmp_path):
    spec, config = tiny("began", epochs=2, initial_k=0.3)
    events = list(train(spec, config, tiny_data, checkpoint_dir=tmp_path))
    assert isinstance(events[-1], Finished)
    assert any(isinstance(e, Samples) and e.images.shape[-1] == 32 for e in events)
    payload = checkpoints.load(events[-1].path, expected_model="began")
    trainer = make_trainer(spec, config, (1, 32, 32), CPU)
    trainer.load_state(payload)
    assert float(trainer.k) == pytest.approx(payload["began_k"]) and payload["began_k"] != 0.3
    z = trainer.noise(4)
    assert z.min() >= -1 and z.max() <= 1   # the paper's uniform prior


def frame_of(steps=1500, **series):
    rows = [[step, step / 100, name, value(step)] for step in range(10, steps + 1, 10)
            for name, value in series.items()]
    return pd.DataFrame(rows, columns=["step", "epoch", "name", "value"])


BEGAN_HEALTHY = {"loss/discriminator": lambda s: 0.1, "loss/generator": lambda s: 0.05,
                 "began/m_global": lambda s: 0.1 + 1 / s, "began/k": lambda s: 0.02 + 0.01 * (s % 3),
                 "began/ratio": lambda s: 0.5, "diversity/ratio": lambda s: 0.9,
                 "classes/covered": lambda s: 10, "classes/entropy": lambda s: 0.95}


def test_the_health_monitor_reads_began_metrics():
    config = {"gamma": 0.5, "lambda_k": 1e-3, "learning_rate_d": 1e-4, "learning_rate_g": 1e-4,
              "latent_dim": 64}
    healthy = MODELS["began"].health.diagnose(frame_of(**BEGAN_HEALTHY), config)
    assert healthy.state == "healthy" and "M_global" in " ".join(healthy.evidence)
    pinned = MODELS["began"].health.diagnose(frame_of(**{**BEGAN_HEALTHY, "began/k": lambda s: 0.0,
                                  "began/ratio": lambda s: 1.5}), config)
    assert pinned.state == "convergence failure" and "k_t is stuck at 0" in pinned.headline
    rising = MODELS["began"].health.diagnose(frame_of(**{**BEGAN_HEALTHY,
                                  "began/m_global": lambda s: 0.1 if s < 1300 else 0.3}), config)
    assert rising.state == "convergence failure" and "rising" in rising.headline
    collapsed = MODELS["began"].health.diagnose(frame_of(**{**BEGAN_HEALTHY, "classes/covered": lambda s: 2}), config)
    assert collapsed.state == "mode collapse"
    assert any("γ" in remedy.label for remedy in collapsed.remedies)
    assert not any("Spectral" in remedy.label for remedy in collapsed.remedies)
    by_change = {tuple(remedy.changes): remedy for remedy in collapsed.remedies}
    assert ("pull_away",) in by_change and not by_change[("pull_away",)].from_scratch
    assert by_change[("generator_batch_norm",)].from_scratch   # G's layers change: no resume
    assert not by_change[("latent_constraint",)].from_scratch  # D keeps its shape
    all_on = MODELS["began"].health.diagnose(frame_of(**{**BEGAN_HEALTHY, "classes/covered": lambda s: 2}),
                      {**config, "pull_away": 0.1, "generator_batch_norm": True,
                       "latent_constraint": 0.1})
    assert not {("pull_away",), ("generator_batch_norm",), ("latent_constraint",)} & {
        tuple(r.changes) for r in all_on.remedies}
    mismatched = MODELS["began"].health.diagnose(frame_of(**{**BEGAN_HEALTHY, "classes/covered": lambda s: 2}),
                          {**config, "embedding_dim": 32})     # BEGAN-CS needs h = nz
    assert ("latent_constraint",) not in {tuple(r.changes) for r in mismatched.remedies}


# The pages -----------------------------------------------------------------------------------

def open_page(page: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.run()
    switch_to(app, page)
    app.run()
    return app


def images_shown(app) -> list[str]:
    """The media URLs of every st.image on the page (they change when the picture changes)."""
    return [image.url for element in app.get("image") for image in element.proto.imgs]


@pytest.mark.skipif(not (ROOT / "checkpoints" / "infogan.pt").exists(),
                    reason="the shipped infoGAN checkpoint is made by the CLI")
def test_infogan_explorer_redraws_when_the_sliders_move():
    app = open_page("infogan")
    next(b for b in app.button if b.label == "Load pretrained").click()
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(s.label.startswith("continuous code c2") for s in app.slider)
    assert "→" in app.selectbox(key="infogan.code").options[0]   # "code 0 → Dress (95%)"
    before = images_shown(app)
    assert len(before) >= 3   # the sample row and two traversal grids
    app.slider(key="infogan.c2").set_value(1.5).run()
    after_c2 = images_shown(app)
    assert after_c2[0] != before[0]      # the sample row changed
    assert after_c2[2] != before[2]      # the grid sweeping c3 holds c2 at the slider's value
    app.slider(key="infogan.c3").set_value(-1.0).run()
    assert images_shown(app)[0] != after_c2[0]
    app.selectbox(key="infogan.code").set_value(3).run()
    assert not app.exception
    assert any("Purity" in caption.value for caption in app.caption)


def test_began_page_trains_and_draws_its_charts():
    app = open_page("began")
    assert not app.exception, [e.value for e in app.exception]
    assert any("Side by side" in header.value for header in app.subheader)
    app.slider(key="began.field.gamma").set_value(0.7)
    app.slider(key="began.field.epochs").set_value(1)
    app.slider(key="began.field.width").set_value(4)
    next(b for b in app.button if b.label == "Train").click()
    app.run()
    from core.jobs import manager
    _, job_id = app.session_state["began.view"]
    job = manager().wait(manager().get(job_id), timeout=120)
    assert job.state == "finished", job.message
    assert job.config.gamma == 0.7
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("Health monitor" in box.value for box in list(app.success) + list(app.info)
               + list(app.error) + list(app.warning))


def test_infogan_page_trains_and_opens_the_explorer_on_the_run():
    app = open_page("infogan")
    app.slider(key="infogan.field.epochs").set_value(1)
    app.slider(key="infogan.field.generator_width").set_value(8)
    app.slider(key="infogan.field.discriminator_width").set_value(8)
    next(b for b in app.button if b.label == "Train").click()
    app.run()
    from core.jobs import manager
    _, job_id = app.session_state["infogan.view"]
    job = manager().wait(manager().get(job_id), timeout=120)
    assert job.state == "finished", job.message
    assert "codes" in job.evaluation
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(header.value == "Explore the codes" for header in app.subheader)
    assert len(images_shown(app)) >= 3


@pytest.mark.skipif(not (ROOT / "checkpoints" / "began.pt").exists(),
                    reason="the shipped BEGAN checkpoint is made by the CLI")
def test_began_pretrained_opens_with_the_latent_explorer():
    app = open_page("began")
    next(b for b in app.button if b.label == "Load pretrained").click()
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(header.value == "Explore the latent space" for header in app.subheader)
    assert any(header.value == "What D keeps" for header in app.subheader)
    assert any("classes (≥ 5%) in D's reconstructions" in m.value for m in app.markdown)
    assert len(images_shown(app)) >= 3


def test_batch_norm_in_began_g_spreads_its_first_samples():
    """Why the option exists: the paper's G (no batch norm) draws nearly the same image for every z
    at initialisation, so all samples drift to the same few kinds of garment."""
    spreads = {}
    for batch_norm in (False, True):
        torch.manual_seed(0)
        generator, _ = began.build(began.BEGANConfig(generator_batch_norm=batch_norm))
        with torch.no_grad():
            images = generator(torch.rand(64, 64) * 2 - 1)
        spreads[batch_norm] = float(images.std(0).mean())
    assert spreads[True] > 5 * spreads[False]
    spec, config = tiny("began", generator_batch_norm=True)
    trainer = make_trainer(spec, config, (1, 32, 32), torch.device("cpu"))
    metrics = trainer.train_step(torch.rand(16, 1, 32, 32) * 2 - 1)
    assert all(torch.isfinite(value).all() for value in metrics.values())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in trainer.generator.modules())


def test_latent_constraint_teaches_d_to_read_z_back_and_needs_h_equal_to_nz(tiny_data):
    """BEGAN-CS: with α > 0 D's encoder learns to map G(z) back to z; without it, it does not."""
    from core.config import ConfigError
    with pytest.raises(ConfigError, match="h"):
        tiny("began", latent_constraint=0.5, latent_dim=16, embedding_dim=8)
    real = tiny_data.train_images.float() / 127.5 - 1
    real = torch.nn.functional.interpolate(real, size=(32, 32), mode="bilinear")
    errors = {}
    for alpha in (0.0, 1.0):
        torch.manual_seed(0)
        spec, config = tiny("began", latent_constraint=alpha, latent_dim=8, embedding_dim=8)
        trainer = make_trainer(spec, config, (1, 32, 32), CPU)
        for step in range(60):
            metrics = trainer.train_step(real[torch.randint(0, len(real), (16,))])
        assert (float(metrics["began/latent_constraint"]) > 0) == (alpha > 0)
        z = trainer.noise(256, torch.Generator().manual_seed(5))
        with torch.no_grad():
            read_back = trainer.discriminator.encoder(trainer.generate(z))
        errors[alpha] = float((read_back - z).abs().mean())
    assert errors[1.0] < 0.7 * errors[0.0], errors


def test_separation_tells_codes_that_learned_the_same_thing_from_codes_that_did_not():
    from core.models.gans.infogan import separation

    def meanings(first: dict, second: dict) -> dict:
        rows = []
        for code, along in enumerate((first, second)):
            best = max(along, key=lambda name: abs(along[name]))
            rows.append({"code": code, "statistic": best, "correlation": along[best],
                         "along_sweep": along})
        return {"continuous": rows}

    # The shipped model before this change: both codes follow ink (-1.00 and +0.99).
    same = meanings({"ink": -1.0, "width": -0.6, "slant": 0.02},
                    {"ink": 0.99, "width": 0.66, "slant": -0.02})
    assert not separation(same)["passes"] and not separation(same)["distinct_statistics"]
    apart = meanings({"ink": 0.1, "width": 0.8, "slant": 0.05},
                     {"ink": 0.05, "width": 0.2, "slant": -0.7})
    checked = separation(apart)
    assert checked["passes"] and [row["statistic"] for row in checked["codes"]] == ["width", "slant"]
    leaky = meanings({"ink": 0.1, "width": 0.8, "slant": 0.45},
                     {"ink": 0.05, "width": 0.2, "slant": -0.7})
    assert not separation(leaky)["passes"]   # code 2 moves code 3's slant by 0.45
