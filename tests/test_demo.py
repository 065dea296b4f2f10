"""Hosted-demo mode: caps, one job per visitor, abandoned jobs stopped, runs kept private."""
import dataclasses
import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

from core import demo, jobs, runs
from core.config import ConfigError
from core.models.cnn import SPEC as CNN
from core.config import from_dict
from core.models.lm import LMConfig
from core.registry import MODELS
from tests.conftest import ROOT, tiny_config

LIMITS = demo.Limits(enabled=True, max_seconds=30, max_epochs=2, max_width=64, max_upload_mb=1,
                     max_jobs=1, max_per_visitor=1, abandon_after_s=5)


def test_off_by_default_and_read_from_the_environment():
    assert not demo.from_environment({}).enabled
    limits = demo.from_environment({"DLSTUDIO_DEMO": "1", "DLSTUDIO_DEMO_MAX_SECONDS": "120",
                                    "DLSTUDIO_DEMO_MAX_JOBS": "2"})
    assert limits.enabled and limits.max_seconds == 120.0 and limits.max_jobs == 2
    with pytest.raises(ConfigError, match="must be a number"):
        demo.from_environment({"DLSTUDIO_DEMO": "yes", "DLSTUDIO_DEMO_MAX_EPOCHS": "lots"})


def test_caps_refuse_wide_models_and_set_a_time_budget():
    with pytest.raises(demo.LimitError, match="hidden_size = 512 is over this demo's limit of 64"):
        demo.apply(LIMITS, LMConfig(hidden_size=512))
    with pytest.raises(demo.LimitError, match="epochs"):
        demo.apply(LIMITS, LMConfig(hidden_size=32, embedding_size=32, epochs=3))
    capped = demo.apply(LIMITS, LMConfig(hidden_size=32, embedding_size=32, epochs=2))
    assert capped.time_budget_s == 30.0
    assert demo.apply(LIMITS, LMConfig(hidden_size=32, embedding_size=32, epochs=2, time_budget_s=10)).time_budget_s == 10
    assert demo.apply(demo.Limits(), LMConfig(hidden_size=512)).hidden_size == 512  # demo off


@pytest.mark.parametrize("name, field", [("dcgan", "generator_width"), ("dcgan", "discriminator_width"),
                                         ("infogan", "generator_width"), ("began", "width"),
                                         ("began", "embedding_dim")])
def test_gan_widths_are_capped_too(name, field):
    spec = MODELS[name]
    narrow = dataclasses.replace(LIMITS, max_width=16)
    values = {f.name: 8 for f in dataclasses.fields(spec.config_cls)
              if f.metadata.get("size") == "width"}
    demo.apply(narrow, from_dict(spec.config_cls, values))          # all under the cap: fine
    with pytest.raises(demo.LimitError, match=f"{field} = 32 is over this demo's limit of 16"):
        demo.apply(narrow, from_dict(spec.config_cls, {**values, field: 32}))
    assert demo.field_cap(narrow, spec.config_cls.__dataclass_fields__[field]) == 16


@pytest.mark.parametrize("name", list(MODELS))
def test_every_width_and_depth_field_declares_it(name):
    """The demo caps what a field declares (``size=``): a field named like a width or a depth
    that forgot to declare it would escape the cap."""
    for field in dataclasses.fields(MODELS[name].config_cls):
        looks_like = any(word in field.name for word in ("width", "hidden_size", "channels",
                                                          "embedding", "fc_hidden", "layers",
                                                          "blocks"))
        if looks_like:
            assert field.metadata.get("size") in ("width", "depth"), field.name


def test_one_job_per_visitor_and_a_queue_estimate(tiny_data):
    manager = jobs.JobManager(limits=LIMITS)
    config = tiny_config(CNN, epochs=2)
    gate = threading.Event()   # ann's job holds the only slot until the gate opens

    def held_data():
        gate.wait(30)
        return tiny_data

    first = manager.submit(CNN, config, held_data, owner="ann")
    with pytest.raises(demo.LimitError, match="already have 1 job"):
        manager.submit(CNN, config, lambda: tiny_data, owner="ann")
    second = manager.submit(CNN, config, lambda: tiny_data, owner="bob")
    assert first.config.time_budget_s == 30.0
    deadline = time.time() + 10
    while first.state != "running" and time.time() < deadline:
        time.sleep(0.01)
    assert manager.queue_position(second) == 1
    # Bob waits for what ann's job may still use of its 30 s budget, and no more.
    assert 0 < manager.wait_estimate(second) <= 30
    gate.set()
    manager.wait(first, 60), manager.wait(second, 60)
    assert first.state == second.state == "finished"
    # Once ann's job ended she may start another.
    manager.wait(manager.submit(CNN, config, lambda: tiny_data, owner="ann"), 60)


def test_a_job_of_a_closed_tab_is_stopped(tiny_data):
    manager = jobs.JobManager(limits=dataclasses.replace(LIMITS, max_epochs=100))
    job = manager.submit(CNN, tiny_config(CNN, epochs=50), lambda: tiny_data, owner="carol")
    deadline = time.time() + 20
    while job.state != "running" and time.time() < deadline:
        time.sleep(0.01)
    manager.touch("carol")
    assert manager.stop_abandoned(now=time.time() + 1) == []         # still there
    assert manager.stop_abandoned(now=time.time() + 60) == [job.id]  # gone for a minute
    manager.wait(job, 30)
    assert job.state == "stopped" and "tab was closed" in job.message
    assert "tab was closed" in job.run.status["message"]
    assert job.run.checkpoint_path.exists()  # nothing lost: the checkpoint at that step is kept


@pytest.fixture
def demo_app(monkeypatch):
    monkeypatch.setattr(jobs, "_manager", jobs.JobManager(limits=LIMITS))

    def open_page(page):
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        app.run()
        app.switch_page(page)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        return app
    return open_page


def test_sliders_stop_at_the_demo_caps(demo_app):
    app = demo_app("views/cnn.py")
    assert app.slider(key="cnn.field.epochs").max == 2
    assert app.slider(key="cnn.field.conv1_channels").max <= 64
    lm = demo_app("views/lm.py")
    assert lm.slider(key="lm.field.hidden_size").max == 64
    assert lm.slider(key="lm.field.hidden_size").value <= 64  # the preset's 256 was clamped


def test_a_visitor_sees_only_their_own_runs(demo_app):
    other = runs.create("cnn", tiny_config(CNN), owner="someone-else")
    app = demo_app("views/workspace.py")
    assert any("shared demo" in i.value for i in app.info)
    shown = app.dataframe[0].value["run"].tolist() if app.dataframe else []
    assert other.id not in shown


def test_a_reloaded_tab_keeps_the_visitor_and_finds_its_job(demo_app, tiny_data):
    """F5 on a hosted demo: the visitor token in the URL brings back their runs and their
    running job, and the one-job cap still counts it (before, a reload made a new visitor)."""
    first = demo_app("views/workspace.py")
    token = first.query_params["visitor"]
    token = token[0] if isinstance(token, list) else token
    assert len(token) == 32
    mine = runs.create("cnn", tiny_config(CNN), owner=token)
    manager = jobs.manager()
    gate = threading.Event()

    def held_data():
        gate.wait(30)
        return tiny_data
    job = manager.submit(CNN, tiny_config(CNN, epochs=2), held_data, owner=token)
    try:
        reloaded = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        reloaded.query_params["visitor"] = token
        reloaded.run()
        reloaded.switch_page("views/workspace.py").run()
        assert mine.id in reloaded.dataframe[0].value["run"].tolist()
        reloaded.switch_page("views/cnn.py").run()
        assert not reloaded.exception
        assert reloaded.session_state["cnn.view"] == ("job", job.id)   # its job, shown again
        with pytest.raises(demo.LimitError, match="already have 1 job"):
            manager.submit(CNN, tiny_config(CNN), lambda: tiny_data, owner=token)
        stranger = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        stranger.query_params["visitor"] = "not-a-token"
        stranger.run()
        stranger.switch_page("views/workspace.py").run()
        shown = stranger.dataframe[0].value["run"].tolist() if stranger.dataframe else []
        assert mine.id not in shown
    finally:
        gate.set()
        manager.stop(job.id)
        manager.wait(job, 30)


def test_demo_words_match_the_demo(demo_app):
    """The time-budget help does not promise "0 = no limit", and the server's folder is not
    shown to visitors."""
    app = demo_app("views/cnn.py")
    budget = app.number_input(key="cnn.field.time_budget_s")
    assert "every job stops after at most 30 s" in budget.help and "no limit" not in budget.help
    runs_page = demo_app("views/workspace.py")
    assert not any(str(runs.runs_root()) in c.value for c in runs_page.caption)
