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
from tests.pages import switch_to

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
        switch_to(app, page)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        return app
    return open_page


def test_sliders_stop_at_the_demo_caps(demo_app):
    app = demo_app("cnn")
    assert app.slider(key="cnn.field.epochs").max == 2
    assert app.slider(key="cnn.field.conv1_channels").max <= 64
    lm = demo_app("language-model")
    assert lm.slider(key="lm.field.hidden_size").max == 64
    assert lm.slider(key="lm.field.hidden_size").value <= 64  # the preset's 256 was clamped


def test_a_visitor_sees_only_their_own_runs(demo_app):
    other = runs.create("cnn", tiny_config(CNN), owner="someone-else")
    app = demo_app("runs")
    assert any("shared demo" in i.value for i in app.info)
    shown = app.dataframe[0].value["run"].tolist() if app.dataframe else []
    assert other.id not in shown


def test_a_visitor_id_in_a_url_is_ignored_and_dropped(demo_app, tiny_data):
    """An address that carries an id (``?visitor=``, as links from the old demo did) hands
    nothing over: the session gets its own id, sees none of that visitor's runs, and the
    parameter leaves the address bar. (The cookie that does carry the id: test_demo_browser.)"""
    victim = "0123456789abcdef0123456789abcdef"
    mine = runs.create("cnn", tiny_config(CNN), owner=victim)
    stranger = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    stranger.query_params["visitor"] = victim
    stranger.run()
    switch_to(stranger, "runs").run()
    assert not stranger.exception, [e.value for e in stranger.exception]
    shown = stranger.dataframe[0].value["run"].tolist() if stranger.dataframe else []
    assert mine.id not in shown
    assert stranger.session_state["owner"] != victim
    assert "visitor" not in stranger.query_params


def test_signed_visitor_cookies():
    from core import identity
    visitor = identity.new_visitor()
    assert identity.is_visitor_id(visitor) and len(visitor) * 4 == 128
    value = identity.issue(visitor)
    assert identity.verify(value) == visitor
    body, mac = value.rsplit(".", 1)
    other = identity.new_visitor()
    forged = [f"v1.{other}.{body.split('.')[2]}.{mac}",           # someone else's id, my mac
              body + "." + "0" * 32,                               # a made-up mac
              value[:-1], value + "0", "", "v1", "x" * 500,        # truncated, junk
              value.replace("v1.", "v2.", 1)]
    assert [identity.verify(v) for v in forged] == [None] * len(forged)
    stale = identity.issue(visitor, now=time.time() - identity.LIFETIME_S - 60)
    assert identity.verify(stale) is None
    # Another installation's key: its cookies are not this server's.
    identity._key_path().write_bytes(b"k" * 32)
    assert identity.verify(value) is None


def test_demo_words_match_the_demo(demo_app):
    """The time-budget help does not promise "0 = no limit", and the server's folder is not
    shown to visitors."""
    app = demo_app("cnn")
    budget = app.number_input(key="cnn.field.time_budget_s")
    assert "every job stops after at most 30 s" in budget.help and "no limit" not in budget.help
    runs_page = demo_app("runs")
    assert not any(str(runs.runs_root()) in c.value for c in runs_page.caption)
