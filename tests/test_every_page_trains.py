"""Every model page in the navigation: Train with the page's default preset (on the tests' tiny
data), redraw while the job runs and after it has ended, and no exception box anywhere; every
page's *Load pretrained* opens its explorer. A page whose panel drifts from the family's
contract (an override that lost an argument) fails here, not in a learner's browser.

Also: every method a panel or a core class overrides still accepts what its base class's
callers pass (the SAGAN/BigGAN ``monitor_panel(..., ended=)`` crash, found by a type checker,
is the bug this guards)."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import time

import pytest
from streamlit.testing.v1 import AppTest

from core.jobs import manager
from core.registry import MODELS
from tests.conftest import ROOT
from tests.pages import switch_to
from ui.navigation import ALL

MODEL_PAGES = [(entry.url_path, entry.model) for entry in ALL if entry.model]


def open_page(page: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    switch_to(app, page)
    app.run()
    return app


def no_exception(app: AppTest, when: str) -> None:
    assert not app.exception, (when, [e.value for e in app.exception])


def button(app: AppTest, label: str):
    return next(b for b in app.button if b.label == label)


def test_every_model_page_is_covered():
    assert sorted(model for _, model in MODEL_PAGES) == sorted(MODELS), \
        "a model without a page, or a page without a model"


@pytest.mark.parametrize("page,model", MODEL_PAGES, ids=[m for _, m in MODEL_PAGES])
def test_train_with_the_default_preset_and_watch(page, model):
    app = open_page(page)
    no_exception(app, "opened")
    button(app, "Train").click()
    app.run()
    no_exception(app, "first render after Train")
    kind, job_id = app.session_state[f"{model}.view"]
    assert kind == "job"
    job = manager().get(job_id)
    # Redraw while it runs, once its first metrics are in (or it has already ended).
    deadline = time.time() + 90
    while job.is_active and job.metrics().empty and time.time() < deadline:
        time.sleep(0.25)
    app.run()
    no_exception(app, f"while the job is {job.state}")
    if job.is_active:          # the default preset may be long: Stop ends it, as a learner would
        button(app, "Stop").click()
        app.run()
        no_exception(app, "after Stop")
    manager().wait(job, timeout=90)
    assert job.state in ("finished", "stopped"), (job.state, job.message)
    app.run()
    no_exception(app, f"after the job {job.state}")
    assert not app.error, [e.value for e in app.error]


# Pages whose Load pretrained is already walked through by another test (every Inside view of
# every shipped GAN and classifier: tests/test_inside.py).
ELSEWHERE = {"softmax", "mlp", "cnn", "resnet"} | {
    name for name, spec in MODELS.items() if spec.family == "gan"}


@pytest.mark.parametrize("page,model", [(p, m) for p, m in MODEL_PAGES if m not in ELSEWHERE])
def test_load_pretrained_opens_the_explorer(page, model):
    if not (ROOT / "checkpoints" / f"{model}.pt").exists():
        pytest.skip("no shipped checkpoint")
    app = open_page(page)
    button(app, "Load pretrained").click()
    app.run()
    no_exception(app, "after Load pretrained")
    assert not app.error, [e.value for e in app.error]
    assert app.session_state[f"{model}.view"][0] == "shipped"
    assert app.get("imgs") or app.get("code") or app.metric, "nothing of the model is shown"


# Overrides keep their base class's signature ----------------------------------------------------

def classes_of(package: str):
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                yield cls


def drifted(cls) -> list[str]:
    """Methods of ``cls`` that refuse an argument a base class's version accepts."""
    problems = []
    for name, method in vars(cls).items():
        if name.startswith("__") or not callable(method) or isinstance(method, type):
            continue
        for base in cls.__mro__[1:]:
            if base is object or name not in vars(base):
                continue
            theirs = vars(base)[name]
            try:
                mine_sig = inspect.signature(method)
                base_sig = inspect.signature(theirs)
            except (TypeError, ValueError):
                break
            mine = mine_sig.parameters
            if any(p.kind == p.VAR_KEYWORD for p in mine.values()):
                break
            for parameter in base_sig.parameters.values():
                if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                    continue
                if parameter.name not in mine:
                    problems.append(f"{cls.__module__}.{cls.__qualname__}.{name} lacks "
                                    f"'{parameter.name}' of {base.__qualname__}.{name}")
            break
    return problems


def test_overrides_accept_what_their_base_accepts():
    problems = []
    for package in ("ui", "core"):
        for cls in classes_of(package):
            problems += drifted(cls)
    assert not problems, "\n".join(sorted(set(problems)))
