"""What a learner reads (issue 27, "What the page says" and "What the page teaches"): the sentences
the app builds from data, the facts in the models' texts, where each remedy comes from, the Home
page's list of pages and its timelines, and the form's learning-rate and β widgets."""
import dataclasses
import re

import pytest
from streamlit.testing.v1 import AppTest

from core import gan_eval
from core.config import LR_RANGES, TrainConfig
from core.data.fashion_mnist import CLASS_NAMES
from core.diagnostics import TUTORIAL, Remedy, diagnose, remedies_heading
from core.inside.classifier import feature_maps, layer_titles
from core.registry import MODELS
from core.wording import article, times, with_article
from tests.conftest import ROOT
from tests.pages import switch_to
from tests.test_diagnostics import HEALTHY, history, noisy
from ui.forms import lr_options
from ui.navigation import ALL

PROBLEMS = ("convergence failure", "mode collapse", "oscillation")


# Wording -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CLASS_NAMES)
def test_every_class_name_gets_the_article_it_is_said_with(name):
    expected = "an" if name[0].lower() in "aeiou" else "a"
    assert article(name) == expected
    assert with_article(name) == f"{expected} {name}"
    assert with_article("Ankle boot") == "an Ankle boot"


def test_likelihood_ratios_are_numbers_of_times_not_floats_with_a_stray_decimal():
    assert times(7.9229) == "2,760"                    # not "2,760.0×"
    assert times(1.0) == "2.7"
    assert times(25.9).startswith("e^25.9 ≈ 1.8 × 10^11")   # not "1.8e+11×"


def test_the_pinyin_chart_labels_word_positions_not_runners_up():
    from core.pinyin import Sentence, WordScore
    from ui.pinyin_view import words_figure
    words = (WordScore("厨房", -5.0, 1), WordScore("里", -2.0, 2), WordScore("的", -1.0, 3))
    sentence = Sentence("厨房里的", words, None, -8.0)
    one = words_figure([("best", sentence)])
    labels = [bar.x[0] for bar in one.data]
    assert labels == ["word 1", "word 2", "word 3"] and "best" not in " ".join(labels)
    two = words_figure([("A", sentence), ("B", sentence)])
    assert [bar.x[0] for bar in two.data][:2] == ["A · word 1", "A · word 2"]


def test_layer_names_say_what_the_layer_is():
    cnn = MODELS["cnn"]
    titles = layer_titles(cnn.build_network(cnn.config_cls()))
    assert titles["features.0.3"] == "stage 1 · max-pool 2×2"
    assert titles["features.1.0"] == "stage 2 · conv 5×5, 32 filters"
    assert list(titles.values())[-1] == "output layer · fully connected 1,568 → 10"
    import torch
    activations, _ = feature_maps(cnn.build_network(cnn.config_cls()).eval(),
                                  torch.zeros(1, 28, 28))
    assert all(a.title and "." not in a.title.split(" · ")[0] and "Sequential" not in a.title
               for a in activations)
    resnet = MODELS["resnet"]
    titles = layer_titles(resnet.build_network(resnet.config_cls()))
    assert titles["stages.3"].startswith("residual block 4 · ") and "stride 2" in titles["stages.3"]
    mlp = MODELS["mlp"]
    titles = layer_titles(mlp.build_network(mlp.config_cls()))
    assert titles == {"layers.0": "hidden layer 1 · fully connected 784 → 500",
                      "layers.1": "hidden layer 1 · ReLU",
                      "layers.2": "output layer · fully connected 500 → 10"}


# The form's learning rates and betas -------------------------------------------------------------

def lr_fields():
    for name, spec in MODELS.items():
        for field in dataclasses.fields(spec.config_cls):
            if field.metadata.get("log"):
                yield name, spec, field


@pytest.mark.parametrize("name, spec, field", list(lr_fields()),
                         ids=[f"{n}.{f.name}" for n, _, f in lr_fields()])
def test_learning_rate_sliders_stay_inside_what_the_config_allows(name, spec, field):
    high = field.metadata["high"]
    optimizers = [f.default for f in dataclasses.fields(spec.config_cls) if f.name == "optimizer"]
    for optimizer in (None, *(LR_RANGES if optimizers else ())):
        options = lr_options(field, field.default, optimizer)
        assert max(options) <= high, (name, field.name, optimizer)
        if optimizer == "adam" or (optimizer is None and not optimizers):
            assert max(options) <= 1e-2, (name, field.name, "Adam's useful range")
    if optimizers:
        assert 10.0 in lr_options(field, field.default, "sgd")   # the README's divergence demo
        assert max(lr_options(field, field.default, "adam")) == 1e-2


def test_every_preset_and_shipped_learning_rate_fits_the_ranges():
    for spec in MODELS.values():
        for values in spec.presets.values():
            config = {f.name: f.default for f in dataclasses.fields(spec.config_cls)} | values
            for name, value in config.items():
                if "learning_rate" in name and config.get("optimizer") in LR_RANGES:
                    low, high = LR_RANGES[config["optimizer"]]
                    assert low <= value <= high, (spec.name, values)


def open_page(page: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    switch_to(app, page)
    return app.run()


def test_the_mlp_page_offers_adam_learning_rates_up_to_1e_2_not_10():
    app = open_page("mlp")
    slider = app.select_slider(key="mlp.field.learning_rate")
    assert max(float(option) for option in slider.options) == 1e-2


def test_biggan_beta2_reads_0_999_not_1_00():
    app = open_page("biggan")
    widget = app.select_slider(key="biggan.field.beta2")
    assert widget.value == 0.999 and "0.999" in widget.options and "1.00" not in widget.options


def test_the_optimizer_settings_say_what_they_do():
    fields = {f.name: f.metadata["help"] for f in dataclasses.fields(TrainConfig)}
    assert "AdamW" in fields["weight_decay"] and "decoupled" in fields["weight_decay"]
    assert "L2" in fields["weight_decay"] and "SGD" in fields["weight_decay"]
    assert "Nesterov" in fields["momentum"]


# The monitor: what it says, and whose remedies ---------------------------------------------------

CONFIGS = [
    {},
    {"latent_dim": 1, "beta1": 0.5, "discriminator_steps": 1, "learning_rate_d": 1e-3,
     "learning_rate_g": 1e-3, "r1_gamma": 0.05, "generator_ema": 0.0, "lambda_k": 1e-2,
     "gamma": 0.5},
    {"discriminator_steps": 5, "learning_rate_d": 4e-3, "beta1": 0.5},
]


def all_remedies(name: str) -> list[Remedy]:
    health = MODELS[name].health
    return [remedy for state in PROBLEMS for config in CONFIGS
            for remedy in health.remedies(state, config)]


@pytest.mark.parametrize("name", ["sagan", "biggan", "began", "stylegan"])
def test_the_papers_remedies_are_not_called_the_tutorials(name):
    remedies = all_remedies(name)
    assert remedies
    for state in PROBLEMS:
        for config in CONFIGS:
            found = MODELS[name].health.remedies(state, config)
            if found:
                assert remedies_heading(found) != "The tutorial's remedies", (state, config)
    by_label = {remedy.label: remedy for remedy in remedies}
    papers = {"sagan": ("Adam β1 = 0", "One D step per G step", "TTUR (D 4e-4, G 1e-4)"),
              "biggan": ("Adam β1 = 0", "2 D steps per G step"),
              "began": ("Pull-away term (0.1)", "Lower learning rates (÷2)"),
              "stylegan": ("G weight average (0.999)",)}[name]
    for label in papers:
        assert by_label[label].source != TUTORIAL, label
        assert by_label[label].source in by_label[label].help
    if name == "stylegan":
        assert any(r.label.startswith("Stronger R1") and "StyleGAN" in r.source for r in remedies)


@pytest.mark.parametrize("name", ["gan", "dcgan"])
def test_the_tutorials_pages_still_say_the_tutorials_remedies(name):
    for state in PROBLEMS:
        found = MODELS[name].health.remedies(state, {"latent_dim": 1})
        assert remedies_heading(found) == "The tutorial's remedies"


def test_convergence_failure_does_not_tell_the_saturating_loss_story():
    failing = history(**{**HEALTHY, "loss/discriminator": noisy(0.02, 0.005),
                         "d_accuracy/mean": noisy(0.995, 0.002),
                         "loss/generator": lambda step: 4.0 + step / 200})
    verdict = diagnose(failing)
    assert verdict.state == "convergence failure"
    assert "no useful gradient" not in verdict.headline
    assert "non-saturating" in verdict.headline and "uninformative" in verdict.headline


def test_a_d_right_74_percent_of_the_time_is_not_called_near_chance():
    run = history(**{**HEALTHY, "loss/discriminator": noisy(1.2, 0.02),
                     "d_accuracy/mean": noisy(0.74, 0.005)})
    verdict = diagnose(run)
    # d_loss is shown to two places: the noise (drawn from a generator other tests share) puts it
    # anywhere from 1.17 to 1.23, so the line is found by its start, not its digits
    note = next(line for line in verdict.evidence if re.match(r"d_loss 1\.[12]\d ", line))
    assert "D is near chance" not in note
    assert "near its value at chance" in note and "still right 74%" in note


def test_the_gan_pages_say_the_mlp_script_prints_a_mean_and_the_dcgan_script_a_sum():
    for text in (MODELS["gan"].summary, MODELS["gan"].health.explanation):
        assert "mean" in text and "sum" in text and "MLP" in text


def test_what_good_looks_like_is_said_for_each_chart():
    notes = MODELS["dcgan"].health.chart_notes
    assert {"d_outputs", "grad_norm"} <= set(notes)
    assert "spike" in notes["grad_norm"]
    assert "k_t" in MODELS["began"].health.chart_notes
    assert "r1" in MODELS["stylegan"].health.chart_notes


def test_figures_carry_their_scope():
    assert "not with a paper's FID" in gan_eval.FRECHET_SCOPE
    assert "recognisable" in gan_eval.INTENDED_SCOPE and "not how" in gan_eval.INTENDED_SCOPE
    assert "biased upwards" in gan_eval.sample_size_note(100, 1000)


# The models' texts against the papers ------------------------------------------------------------

def test_psi_is_said_to_mean_two_different_things():
    biggan, stylegan = MODELS["biggan"].summary, MODELS["stylegan"].summary
    assert "threshold" in biggan and "small ψ truncates strongly" in biggan
    assert "ψ = 1 is no truncation" in stylegan and "BigGAN" in stylegan


def test_facts_from_the_papers():
    biggan, stylegan = MODELS["biggan"].summary, MODELS["stylegan"].summary
    assert "512 TPU v3 cores" in biggan and "2–4× the parameters" in biggan
    assert "128 TPUs" not in biggan and "wider nets" not in biggan
    assert "less entangled" in stylegan and "proof" not in stylegan
    from core.models.gans import stylegan as module
    assert "section 4.1" in module.path_lengths.__doc__
    assert "softmax turns them into probabilities" in MODELS["softmax"].summary
    assert "continuous function on a bounded domain" in MODELS["mlp"].summary
    assert "discards" in MODELS["cnn"].summary and "without losing" not in MODELS["cnn"].summary
    assert "ensemble" in MODELS["resnet"].summary
    assert "collapsed" in MODELS["began"].summary.rsplit("never collapsed", 1)[-1]
    dcgan = MODELS["dcgan"]
    assert not any("as the tutorial on a CPU" in title for title in dcgan.presets)
    assert "8 epochs" in dcgan.summary and "400 steps" in dcgan.summary
    for spec in MODELS.values():
        for title, values in spec.presets.items():
            if "aper" in title and "batch 64" in title:
                assert "1–10" in title, title      # pix2pix: the paper trained with batch 1


def test_perplexity_is_defined_where_it_is_first_shown():
    summary = MODELS["lm"].summary
    assert "perplexity" in summary and "−ln P" in summary


# The Home page -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def home() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_home_lists_every_page(home):
    labels = [link.proto.label for link in home.page_link]
    for entry in ALL:
        if entry.url_path:
            assert entry.title in labels, entry.title


def test_home_has_the_gan_line_with_each_shipped_gans_year_and_a_path(home):
    labels = [link.proto.label for link in home.page_link]
    for spec in MODELS.values():
        if spec.paper is not None:
            assert f"{spec.paper.year} · {spec.title}: {spec.paper.fixed}" in labels
    headings = [heading.value for heading in home.subheader]
    assert any("path for a beginner" in heading for heading in headings)
    assert any("GAN line" in heading for heading in headings)


def test_the_classic_timeline_has_its_dates_right(home):
    table = home.dataframe[0].value
    years = list(table["year"])
    assert years[:4] == ["1958", "1980", "1986", "1989"]
    text = " ".join(table.astype(str).agg(" ".join, axis=1))
    assert "first CNN" not in text and "1950s" not in text
    assert "single layer" in text and "back-propagation" in text
    captions = " ".join(caption.value for caption in home.caption)
    assert "ensemble" in captions and "4.49%" in captions
