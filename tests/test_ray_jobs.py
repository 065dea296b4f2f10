"""Jobs on Ray: a real Ray instance started on this machine (loopback, 2 CPUs), no mock.

Skipped where Ray is not installed (``pip install -r requirements-ray.txt``).
"""
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

ray = pytest.importorskip("ray")

from core import checkpoints, runs  # noqa: E402
from core.data.sources import DataSource  # noqa: E402
from core.jobs import JobManager  # noqa: E402
from core.registry import MODELS  # noqa: E402
from tests.conftest import ROOT, tiny_config  # noqa: E402

MLP = MODELS["mlp"]
SETTINGS = {"DLSTUDIO_RAY_ADDRESS": "local", "DLSTUDIO_RAY_LOCAL_CPUS": "2"}


@pytest.fixture(scope="module")
def cluster():
    saved = {name: os.environ.get(name) for name in SETTINGS}
    os.environ.update(SETTINGS)
    try:
        yield JobManager(max_concurrent=1)     # the address alone picks Ray
    finally:
        ray.shutdown()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def wait_for(condition, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_job_on_ray_streams_its_metrics_and_ends_as_it_does_locally(cluster):
    assert cluster.backend == "ray"
    config = tiny_config(MLP, epochs=15, seed=5)
    job = cluster.submit(MLP, config, DataSource.images())
    assert wait_for(lambda: len(job.rows) > 0, 60)
    live = job.is_active                    # metrics reach the page while it trains
    cluster.wait(job, 120)
    assert job.state == "finished", job.message
    assert live or job.step == job.total_steps
    status = runs.get(job.run.id).status
    assert status["backend"] == "ray" and runs.ran_on(status).startswith("ray on ")
    local = JobManager(max_concurrent=1, backend="thread")
    here = local.wait(local.submit(MLP, config, DataSource.images()), 120)
    remote_weights = checkpoints.load(job.run.checkpoint_path)["state_dict"]["network"]
    local_weights = checkpoints.load(here.run.checkpoint_path)["state_dict"]["network"]
    for name, weights in local_weights.items():
        assert torch.allclose(weights, remote_weights[name], atol=1e-5), name
    assert job.final["accuracy/test"] == pytest.approx(here.final["accuracy/test"], abs=0.003)


def test_stop_cancels_the_job_on_ray(cluster):
    job = cluster.submit(MLP, tiny_config(MLP, epochs=200, batch_size=8), DataSource.images())
    assert wait_for(lambda: job.step >= 10, 60)
    cluster.stop(job.id)
    assert wait_for(lambda: not job.is_active, 10)
    assert job.state == "stopped"
    assert checkpoints.load(job.run.checkpoint_path)["step"] == job.step


@pytest.mark.slow
def test_ray_train_runs_the_torchrun_loop_on_two_workers(cluster, monkeypatch):
    """Two Ray Train workers (gloo) reproduce one process with the same global batch."""
    monkeypatch.setenv("DLSTUDIO_RAY_WORKERS", "2")
    config = tiny_config(MLP, epochs=1, batch_size=10, hidden_size=16, seed=3)
    job = cluster.wait(cluster.submit(MLP, config, DataSource.images()), 300)
    assert job.state == "finished", job.message
    status = runs.get(job.run.id).status
    assert "2 workers, gloo" in status["ran_on"] and status["backend"] == "ray-train"
    local = JobManager(max_concurrent=1, backend="thread")
    here = local.wait(local.submit(MLP, config, DataSource.images()), 120)
    remote_weights = checkpoints.load(job.run.checkpoint_path)["state_dict"]["network"]
    for name, weights in checkpoints.load(here.run.checkpoint_path)["state_dict"]["network"].items():
        assert torch.allclose(weights, remote_weights[name], atol=1e-5), name


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="no Debian chromium")
def test_the_app_trains_on_ray_with_live_metrics_and_the_runs_page_says_where(tmp_path):
    """The server started with a cluster address (a local Ray it starts itself): Train on the
    CNN page shows live progress, Stop stops it, and the Runs page says it ran on Ray."""
    from playwright.sync_api import sync_playwright
    from tests.test_browser import CHROMIUM, free_port, wait_rendered
    from tests.test_job_processes import _healthy
    runs_dir, port = tmp_path / "runs", free_port()
    env = {**os.environ, **SETTINGS, "DLSTUDIO_DATASET": "synthetic",
           "DLSTUDIO_RUNS_DIR": str(runs_dir)}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: _healthy(url), 60), "streamlit did not start"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu",
                                                "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.goto(f"{url}/cnn")
            wait_rendered(page)
            epochs = page.locator("[data-testid='stSlider']").filter(
                has_text=re.compile(r"^epochs")).get_by_role("slider")
            epochs.focus()
            page.keyboard.press("End")
            wait_rendered(page)
            page.get_by_role("button", name="Train", exact=True).click()
            page.get_by_text(re.compile(r"steps/s")).first.wait_for(timeout=120_000)
            page.get_by_test_id("stMainBlockContainer").get_by_role(
                "button", name="Stop", exact=True).click()
            page.get_by_text(re.compile(r"Stopped at step")).wait_for(timeout=60_000)
            page.goto(f"{url}/runs")
            wait_rendered(page)
            cells = page.locator("[data-testid='stDataFrame'] td", has_text="ray on")
            assert wait_for(lambda: cells.count() == 1, 30)
            assert page.locator("[data-testid='stException']").count() == 0
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
