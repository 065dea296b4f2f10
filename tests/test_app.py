"""AppTest drives the real app script: every page renders, a short run trains, bad uploads are refused."""
import time

import pytest
from streamlit.testing.v1 import AppTest

from core.jobs import manager
from core.registry import MODELS
from tests.conftest import ROOT
from tests.pages import switch_to
from ui.navigation import ALL, entry_for

PAGES = [entry.url_path for entry in ALL]      # "" is home


def open_page(page: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.run()
    if page:
        switch_to(app, page)
        app.run()
    return app


@pytest.mark.parametrize("page", PAGES, ids=[page or "home" for page in PAGES])
def test_every_page_renders_without_exception(page):
    app = open_page(page)
    assert not app.exception, [e.value for e in app.exception]
    assert app.title
    model = entry_for(page).model
    if model:       # the page asked for, drawn from its spec (not home's, nor another's)
        assert app.title[0].value == MODELS[model].title


def test_the_pages_are_found_by_url_path_or_model_and_an_unknown_one_is_refused():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    with pytest.raises(RuntimeError):       # before the first run nothing is registered
        switch_to(app, "cnn")
    app.run()
    switch_to(app, "lm").run()
    assert app.title[0].value == MODELS["lm"].title
    switch_to(app, "runs").run()
    assert app.title[0].value == "Runs"
    with pytest.raises(KeyError):
        switch_to(app, "no-such-page")


def button(app, label):
    return next(b for b in app.button if b.label == label)


def test_train_on_tiny_data_shows_results():
    app = open_page("cnn")
    app.select_slider(key="cnn.field.batch_size").set_value(50)
    app.slider(key="cnn.field.epochs").set_value(1)
    app.slider(key="cnn.field.conv1_channels").set_value(4)
    button(app, "Train").click()
    app.run()
    assert not app.exception
    kind, job_id = app.session_state["cnn.view"]
    job = manager().wait(manager().get(job_id), timeout=60)
    assert job.state == "finished"
    assert job.config.batch_size == 50 and job.config.conv1_channels == 4
    app.run()
    assert not app.exception
    assert any("Test accuracy" == m.label for m in app.metric)
    assert any("Finished at step" in s.value for s in app.success)


def test_preset_sets_the_widgets():
    app = open_page("cnn")
    shipped = next(p for p in app.selectbox(key="cnn.preset").options if p.startswith("Shipped"))
    app.selectbox(key="cnn.preset").set_value(shipped).run()
    assert app.slider(key="cnn.field.conv1_channels").value == 32
    assert app.selectbox(key="cnn.field.kernel_size").value == 3
    tutorial = app.selectbox(key="cnn.preset").options[0]
    app.selectbox(key="cnn.preset").set_value(tutorial).run()
    assert app.slider(key="cnn.field.conv1_channels").value == 16
    assert app.selectbox(key="cnn.field.kernel_size").value == 5


def test_load_pretrained_shows_results_at_once():
    app = open_page("softmax")
    started = time.time()
    button(app, "Load pretrained").click()
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert time.time() - started < 20
    assert any(m.label == "Test accuracy" for m in app.metric)


def test_load_pretrained_shows_the_models_settings_as_custom():
    """After Load pretrained the form shows how the shipped model was made (not the page's
    preset), and the preset box says the settings are custom; picking a preset goes back."""
    from core import checkpoints
    from core.paths import shipped_checkpoint
    from ui.forms import CUSTOM
    shipped = checkpoints.load(str(shipped_checkpoint("cnn")))["config"]
    app = open_page("cnn")
    first = app.selectbox(key="cnn.preset").value
    button(app, "Load pretrained").click()
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.selectbox(key="cnn.preset").value == CUSTOM
    assert app.selectbox(key="cnn.field.kernel_size").value == shipped["kernel_size"]
    assert app.slider(key="cnn.field.conv1_channels").value == shipped["conv1_channels"]
    assert app.slider(key="cnn.field.epochs").value == shipped["epochs"]
    assert any("settings of the shipped model" in c.value for c in app.caption)
    app.selectbox(key="cnn.preset").set_value(first).run()
    assert app.selectbox(key="cnn.preset").value == first
    assert not app.exception


def test_moving_a_slider_makes_the_preset_custom():
    from ui.forms import CUSTOM
    app = open_page("cnn")
    app.slider(key="cnn.field.epochs").set_value(app.slider(key="cnn.field.epochs").value + 1)
    app.run()
    assert app.selectbox(key="cnn.preset").value == CUSTOM
    assert not app.exception


def test_workspace_lists_and_reopens_a_run():
    from core import runs
    from core.registry import MODELS
    from tests.conftest import tiny_config
    from core.data import load_images
    job = manager().wait(manager().submit(MODELS["mlp"], tiny_config(MODELS["mlp"]), load_images), 60)
    assert job.state == "finished"
    app = open_page("runs")
    assert not app.exception
    assert job.run.id in app.dataframe[0].value["run"].tolist()
    app.selectbox[0].set_value(job.run.id)
    button(app, "Open on its page").click()
    app.run()
    assert not app.exception
    # A finished run has no live job: its page opens the run from disk.
    assert app.session_state["mlp.view"] == ("run", job.run.id)
    assert runs.get(job.run.id).status["status"] == "finished"


@pytest.mark.parametrize("model", ["gan", "dcgan"])
def test_gan_page_switches_presets_and_trains_a_few_steps(model):
    app = open_page(model)
    presets = app.selectbox(key=f"{model}.preset").options
    collapse = next(p for p in presets if p.startswith("Mode-collapse"))
    app.selectbox(key=f"{model}.preset").set_value(collapse).run()
    assert app.slider(key=f"{model}.field.latent_dim").value == 1
    stabilized = next(p for p in presets if p.startswith("Stabilized"))
    app.selectbox(key=f"{model}.preset").set_value(stabilized).run()
    assert app.toggle(key=f"{model}.field.spectral_norm").value is True
    app.slider(key=f"{model}.field.epochs").set_value(1)
    if model == "dcgan":
        app.slider(key="dcgan.field.generator_width").set_value(4)
        app.slider(key="dcgan.field.discriminator_width").set_value(4)
    button(app, "Train").click()
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    kind, job_id = app.session_state[f"{model}.view"]
    job = manager().wait(manager().get(job_id), timeout=120)
    assert job.state == "finished", job.message
    assert job.samples and job.config.spectral_norm
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    # A few steps on tiny data end before the monitor's first verdict: it says so.
    assert any("Health monitor — too short" in box.value and "ended at step" in box.value
               for box in app.warning)
    assert any(s.label == "Seed of the noise z" for s in app.number_input)
    app.number_input(key=f"{model}.seed").set_value(5).run()
    assert not app.exception


def test_gan_page_without_images_says_what_to_do():
    app = open_page("dcgan")
    app.selectbox(key="dcgan.dataset").set_value("Your images (.zip upload)").run()
    button(app, "Train").click()
    app.run()
    assert not app.exception
    assert any("Upload a .zip of images first" in e.value for e in app.error)
    app.selectbox(key="dcgan.dataset").set_value("Your images (folder on this machine)").run()
    app.text_input(key="dcgan.images_folder").input("/nonexistent/folder").run()
    button(app, "Train").click()
    app.run()
    assert any("is not a folder" in e.value for e in app.error)


def test_the_form_follows_a_remedy_that_restarted_the_run():
    """A remedy (here nz = 100 after the mode-collapse demo) restarts the run with new settings;
    the form must show them, not the preset's nz = 1 (pressing Train would repeat the collapse)."""
    def page():
        import streamlit as st
        from core.registry import MODELS
        from ui.gan_views import GANPanel
        panel = GANPanel(MODELS["dcgan"])
        panel.settings()
        if st.button("remedy"):
            panel.follow({"latent_dim": 100}, "nz = 100")
            st.rerun()

    app = AppTest.from_function(page, default_timeout=60).run()
    presets = app.selectbox(key="dcgan.preset").options
    app.selectbox(key="dcgan.preset").set_value(next(p for p in presets
                                                      if p.startswith("Mode-collapse"))).run()
    assert app.slider(key="dcgan.field.latent_dim").value == 1
    next(b for b in app.button if b.label == "remedy").click().run()
    assert not app.exception
    assert app.slider(key="dcgan.field.latent_dim").value == 100
    assert any("Changed by the remedy *nz = 100*" in c.value for c in app.caption)
